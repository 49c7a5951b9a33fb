"""Checking JSON against the shapes of docs/intake-api.yaml, collecting every problem as a
``FieldError`` (``pointer``, ``code``, ``detail``) instead of stopping at the first.

Objects the YAML closes (``additionalProperties: false``) refuse unknown members here too;
the YAML closes every request object, so the check is strict wherever the contract is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from stdnum.cn import ric, uscc

from integrations.licenses.identifier import check_identifier
from integrations.sandbox.intake_models import Json
from portal.forms import divisions

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESIDENT_ID = re.compile(r"^[1-9][0-9]{16}[0-9X]$")
USCC = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
LICENSE_IDENTIFIER = re.compile(
    r"^1\.2\.156\.3005\.2\.[0-9A-Z]{18}[0-9]{3}\.[0-9A-Z]{18}\.[0-9A-Z]{1,32}\.[0-9]{3}\.[0-9A-Z]$"
)
ROLES = ("self", "legal_representative", "agent", "assistant")
LEVELS = ("L2", "L3", "L4", "L5")


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON Pointer."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Problems:
    errors: list[Json] = field(default_factory=list)

    def add(self, at: str, code: str, detail: str) -> None:
        self.errors.append({"pointer": at, "code": code, "detail": detail})

    def obj(
        self, value: Any, at: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any] | None:
        """``value`` when it is an object; notes missing and unknown members either way."""
        if not isinstance(value, dict):
            self.add(at, "type", "Must be a JSON object.")
            return None
        for name in required:
            if name not in value:
                self.add(f"{at}/{name}", "required", f"{name} is required.")
        for name in value:
            if name not in required and name not in optional:
                self.add(pointer_join(at, name), "unknown", f"Unknown member {name!r}.")
        return value

    def mapping(self, value: Any, at: str) -> dict[str, Any] | None:
        """``value`` when it is an object with any members (a map of keys)."""
        if not isinstance(value, dict):
            self.add(at, "type", "Must be a JSON object.")
            return None
        return value

    def text(self, value: Any, at: str, longest: int, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str) or not value:
            self.add(at, "type", "Must be a non-empty string.")
            return False
        if len(value) > longest:
            self.add(at, "too_long", f"At most {longest} characters.")
            return False
        return True

    def matches(self, value: Any, at: str, pattern: re.Pattern[str], code: str) -> bool:
        if not isinstance(value, str) or not pattern.match(value):
            self.add(at, code, f"Not a valid {code.replace('_', ' ')}.")
            return False
        return True

    def one_of(self, value: Any, at: str, allowed: Iterable[str]) -> bool:
        options = tuple(allowed)
        if value not in options:
            self.add(at, "choice", f"Must be one of {', '.join(options)}.")
            return False
        return True

    def moment(self, value: Any, at: str) -> None:
        """An RFC 3339 date-time with an offset."""
        try:
            parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None or "T" not in str(value):
            self.add(at, "date_time", "Must be an RFC 3339 date-time with an offset.")

    def day(self, value: Any, at: str) -> None:
        if not (isinstance(value, str) and DATE.match(value) and _is_date(value)):
            self.add(at, "date", "Must be a date YYYY-MM-DD.")

    def resident_id(self, value: Any, at: str) -> None:
        if not (isinstance(value, str) and RESIDENT_ID.match(value) and ric.is_valid(value)):
            self.add(at, "resident_id", "Not a valid resident ID number (check digit).")

    def uscc(self, value: Any, at: str) -> None:
        if not (isinstance(value, str) and USCC.match(value) and uscc.is_valid(value)):
            self.add(at, "uscc", "Not a valid unified social credit code (check character).")

    def license_identifier(self, value: Any, at: str) -> None:
        well_formed = isinstance(value, str) and LICENSE_IDENTIFIER.match(value)
        if not (well_formed and check_identifier(str(value))):
            detail = f"Check character or form wrong: {value} is not a GB/T 36904 identifier."
            self.add(at, "license_identifier", detail)

    def address(self, value: Any, at: str) -> None:
        found = self.obj(value, at, ("province", "city", "county", "street"), ("text",))
        if found is None:
            return
        codes = [found.get(part) for part in ("province", "city", "county")]
        if not all(isinstance(code, str) for code in codes) or not divisions.is_chain(
            *(str(code) for code in codes)
        ):
            self.add(f"{at}/county", "address_division", "Not a county of that city (GB/T 2260).")
        if "street" in found:
            self.text(found["street"], f"{at}/street", 200)
        if "text" in found:
            self.text(found["text"], f"{at}/text", 300)

    def operator(self, value: Any, at: str) -> dict[str, Any] | None:
        required = ("name", "id_number", "role", "assurance_level")
        found = self.obj(value, at, required, ("mobile", "authorisation"))
        if found is None:
            return None
        self.text(found.get("name"), f"{at}/name", 50)
        self.resident_id(found.get("id_number"), f"{at}/id_number")
        self.one_of(found.get("role"), f"{at}/role", ROLES)
        self.one_of(found.get("assurance_level"), f"{at}/assurance_level", LEVELS)
        if "mobile" in found:
            self.matches(found["mobile"], f"{at}/mobile", MOBILE, "mobile")
        grant = found.get("authorisation")
        if grant is not None or found.get("role") == "agent":
            self.authorisation(grant, f"{at}/authorisation")
        return found

    def authorisation(self, value: Any, at: str) -> None:
        found = self.obj(value, at, ("reference", "granted_by", "valid_until"), ("one_things",))
        if found is None:
            return
        self.text(found.get("reference"), f"{at}/reference", 64)
        self.text(found.get("granted_by"), f"{at}/granted_by", 50)
        self.day(found.get("valid_until"), f"{at}/valid_until")

    def subject(self, value: Any, at: str) -> dict[str, Any] | None:
        kind = value.get("kind") if isinstance(value, dict) else None
        code = "uscc" if kind == "enterprise" else "id_number"
        found = self.obj(value, at, ("kind", "name", code))
        if found is None:
            return None
        if self.one_of(kind, f"{at}/kind", ("person", "enterprise")):
            self.text(found.get("name"), f"{at}/name", 100 if kind == "enterprise" else 50)
            check = self.uscc if kind == "enterprise" else self.resident_id
            check(found.get(code), f"{at}/{code}")
        return found


def pointer_join(at: str, name: str) -> str:
    return at + pointer(name)


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
