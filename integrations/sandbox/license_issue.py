"""Read a ``POST /licenses`` body into a new license, or say (``ValueError``) what is wrong
with it. The store checks the data fields when the license is added."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from stdnum.cn import ric, uscc

from integrations.licenses.types import license_types
from integrations.sandbox.license_authorities import DEFAULT_ISSUERS
from integrations.sandbox.license_store import (
    RESIDENT_ID,
    USCC,
    Authority,
    LicenseStore,
    Named,
    StoredLicense,
)


def license_from_request(body: object, store: LicenseStore) -> StoredLicense:
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    kind = license_types().get(str(body.get("type")))
    if kind is None:
        raise ValueError(f"unknown license type {body.get('type')!r}")
    issuer = _issuer(body.get("issuer"), DEFAULT_ISSUERS.get(kind.key))
    valid_from = _date(body.get("valid_from"), "valid_from") or store.today()
    valid_until = _date(body.get("valid_until"), "valid_until")
    if valid_until is not None and valid_until < valid_from:
        raise ValueError("valid_until is before valid_from")
    serial = store.next_serial()
    number = body.get("number") or f"DZ{issuer.region}{serial}"
    parties = body.get("related_parties") or []
    if not isinstance(parties, list):
        raise ValueError("related_parties must be a list")
    return StoredLicense(
        id=f"lic-{secrets.token_hex(8)}",
        type=kind,
        serial=serial,
        number=_required(number, "number"),
        holder=_named(body.get("holder"), "holder"),
        issuer=issuer,
        issued_on=store.today(),
        valid_from=valid_from,
        valid_until=valid_until,
        data=_data(body.get("data")),
        parties=tuple(_named(party, None) for party in parties),
    )


def _named(item: object, role: str | None) -> Named:
    """A holder (``role`` given) or a related party (its ``role`` read from ``item``)."""
    if not isinstance(item, dict):
        raise ValueError(f"{role or 'related party'} must be an object")
    name = _required(item.get("name"), "name")
    code, code_type = item.get("code"), item.get("code_type", RESIDENT_ID)
    if code_type == RESIDENT_ID and (code is None or ric.is_valid(str(code))):
        pass  # a newborn has no ID number yet
    elif not (code_type == USCC and uscc.is_valid(str(code))):
        raise ValueError(f"{name}: {code!r} is not a valid {code_type!r} code")
    role = role or _required(item.get("role"), "role")
    return Named(name, None if code is None else str(code), str(code_type), role)


def _issuer(item: object, default: Authority | None) -> Authority:
    if item is None:
        if default is None:
            raise ValueError("this license type has no default issuer: give issuer")
        return default
    if not isinstance(item, dict) or not uscc.is_valid(str(item.get("code"))):
        raise ValueError("issuer must be {name, code} with a valid USCC")
    code = str(item["code"])
    return Authority(_required(item.get("name"), "issuer name"), code, region=code[2:8])


def _data(item: object) -> dict[str, str]:
    if not isinstance(item, dict) or not all(isinstance(v, str) for v in item.values()):
        raise ValueError("data must map each field of the type to a string")
    return {str(key): value for key, value in item.items()}


def _date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD)") from None


def _required(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is required")
    return value.strip()
