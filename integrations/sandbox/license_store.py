"""The sandbox e-license library's state: licenses by id and by identifier, in memory.

``add`` is the one way in, for the demo data and ``POST /licenses`` alike, and it refuses a
license whose ``data`` is not exactly its type's fields (license_types.yaml) with a value
for each; it keeps them in the catalog's order. ``today`` is China's date by default;
tests move it to see a license expire.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from itertools import count
from typing import Any

from integrations.licenses.identifier import check_identifier, make_identifier
from integrations.licenses.types import LicenseType

CHINA = timezone(timedelta(hours=8), "CST")
RESIDENT_ID, USCC = "111", "001"  # GB/T 36903 holder code types


SUMMARY_KEYS = (
    *("id", "identifier", "type", "type_code", "name", "number"),
    *("holder_name", "holder_code", "holder_code_type", "issuer_name"),
    *("issued_on", "valid_until", "status"),
)


def china_today() -> date:
    return datetime.now(CHINA).date()


@dataclass(frozen=True)
class Named:
    """A license's holder (role ``holder``) or a party named on it (``mother``…). ``code``
    is None for a newborn who has no ID number yet."""

    name: str
    code: str | None
    code_type: str = RESIDENT_ID
    role: str = "holder"

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "code": self.code,
            "code_type": self.code_type,
        }


@dataclass(frozen=True)
class Authority:
    """An issuing authority: its USCC goes into identifiers, its GB/T 2260 region code is
    the license's jurisdiction."""

    name: str
    code: str
    region: str


@dataclass(frozen=True)
class StoredLicense:
    id: str
    type: LicenseType
    serial: str
    number: str
    holder: Named
    issuer: Authority
    issued_on: date
    valid_from: date
    valid_until: date | None
    data: dict[str, str]
    parties: tuple[Named, ...] = ()
    status: str = "valid"
    version: int = 1

    @property
    def identifier(self) -> str:
        return make_identifier(self.type.type_code, self.issuer.code, self.serial, self.version)

    def relation_to(self, code: str, code_type: str) -> str | None:
        """``holder``, the role ``code`` is named under, or None when it is not on it."""
        for person in (self.holder, *self.parties):
            if person.code == code and person.code_type == code_type:
                return person.role
        return None

    def summary_json(self, relation: str) -> dict[str, Any]:
        full = self.to_json()
        return {key: full[key] for key in SUMMARY_KEYS} | {"relation": relation}

    def to_json(self) -> dict[str, Any]:
        until = self.valid_until.isoformat() if self.valid_until else None
        return {
            "id": self.id,
            "identifier": self.identifier,
            "type": self.type.key,
            "type_code": self.type.type_code,
            "name": self.type.name,
            "number": self.number,
            "holder_name": self.holder.name,
            "holder_code": self.holder.code,
            "holder_code_type": self.holder.code_type,
            "issuer_name": self.issuer.name,
            "issuer_code": self.issuer.code,
            "issued_on": self.issued_on.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": until,
            "jurisdiction": self.issuer.region,
            "status": self.status,
            "data": dict(self.data),
            "related_parties": [party.to_json() for party in self.parties],
        }


def data_problem(license_type: LicenseType, data: dict[str, str]) -> str | None:
    """Why ``data`` does not fit its type, or None when it has exactly the type's fields."""
    missing = [name for name in license_type.fields if not data.get(name)]
    extra = sorted(set(data) - set(license_type.fields))
    if missing or extra:
        return f"{license_type.key}: missing {missing}, unexpected {extra}"
    return None


@dataclass
class LicenseStore:
    today: Callable[[], date] = china_today
    licenses: dict[str, StoredLicense] = field(default_factory=dict)
    by_identifier: dict[str, StoredLicense] = field(default_factory=dict)
    serials: count[int] = field(default_factory=lambda: count(2600001))

    def add(self, license: StoredLicense) -> StoredLicense:
        if problem := data_problem(license.type, license.data):
            raise ValueError(problem)
        if license.id in self.licenses or license.identifier in self.by_identifier:
            raise ValueError(f"{license.id} or its identifier is already in the library")
        ordered = {name: license.data[name] for name in license.type.fields}  # catalog order
        license = replace(license, data=ordered)
        self.licenses[license.id] = self.by_identifier[license.identifier] = license
        return license

    def next_serial(self) -> str:
        return f"{next(self.serials):07d}"

    def for_holder(self, code: str, code_type: str) -> list[tuple[StoredLicense, str]]:
        """Licenses ``code`` holds or is named on, oldest first, with how it is on each."""
        found = [(item, item.relation_to(code, code_type)) for item in self.licenses.values()]
        listed = [(item, relation) for item, relation in found if relation is not None]
        return sorted(listed, key=lambda pair: pair[0].issued_on)

    def verify(self, identifier: str) -> str:
        """One of ``ok``, ``bad_check``, ``unknown``, ``revoked``, ``expired``."""
        if not check_identifier(identifier):
            return "bad_check"
        license = self.by_identifier.get(identifier)
        if license is None:
            return "unknown"
        if license.status != "valid":
            return "revoked"
        if license.valid_until is not None and license.valid_until < self.today():
            return "expired"
        return "ok"
