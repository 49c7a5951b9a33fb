"""What the e-license library answers, as frozen dataclasses (contract: docs/licenses.md).

``from_json`` functions read one JSON object each and raise ``ValueError`` (or ``KeyError``,
``TypeError``) on anything off-contract; the client turns those into ``LicenseLibraryError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypeGuard, get_args

CodeType = Literal["111", "001"]  # GB/T 36903: resident ID number, USCC
Status = Literal["valid", "revoked"]
Reason = Literal["ok", "bad_check", "unknown", "revoked", "expired"]
RESIDENT_ID: CodeType = "111"
USCC: CodeType = "001"


@dataclass(frozen=True)
class Holder:
    """Who a license is for. ``code`` is None only for a newborn without an ID number yet."""

    name: str
    code: str | None
    code_type: CodeType = RESIDENT_ID


@dataclass(frozen=True)
class Party:
    """A person named on someone else's license (the parents on a birth certificate)."""

    role: str
    name: str
    code: str | None
    code_type: CodeType = RESIDENT_ID


@dataclass(frozen=True)
class Issuer:
    name: str
    code: str


@dataclass(frozen=True)
class LicenseSummary:
    """One line of a holder's list. ``relation`` is ``holder`` or the role under which the
    person asked about is named on it (``mother``, ``father``)."""

    id: str
    identifier: str
    type: str
    type_code: str
    name: str
    number: str
    holder: Holder
    issuer_name: str
    issued_on: date
    valid_until: date | None
    status: Status
    relation: str

    def usable_on(self, day: date) -> bool:
        return _usable(self.status, self.valid_until, day)


@dataclass(frozen=True)
class License:
    """A whole license: GB/T 36903 metadata and ``data`` with exactly its type's fields."""

    id: str
    identifier: str
    type: str
    type_code: str
    name: str
    number: str
    holder: Holder
    issuer: Issuer
    issued_on: date
    valid_from: date
    valid_until: date | None  # None: long-term (长期)
    jurisdiction: str
    status: Status
    data: Mapping[str, str]
    related_parties: tuple[Party, ...] = field(default=())

    def usable_on(self, day: date) -> bool:
        return _usable(self.status, self.valid_until, day)


@dataclass(frozen=True)
class Verification:
    identifier: str
    valid: bool
    reason: Reason


def _usable(status: Status, valid_until: date | None, day: date) -> bool:
    return status == "valid" and (valid_until is None or day <= valid_until)


def summary_from_json(item: Mapping[str, Any]) -> LicenseSummary:
    return LicenseSummary(
        **_common(item),
        issuer_name=_text(item["issuer_name"]),
        relation=_text(item["relation"]),
    )


def license_from_json(item: Mapping[str, Any]) -> License:
    data = item["data"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError("data must map field names to strings")
    parties = tuple(_party(party) for party in item.get("related_parties", []))
    return License(
        **_common(item),
        issuer=Issuer(name=_text(item["issuer_name"]), code=_text(item["issuer_code"])),
        valid_from=date.fromisoformat(item["valid_from"]),
        jurisdiction=_text(item["jurisdiction"]),
        data=dict(data),
        related_parties=parties,
    )


def verification_from_json(item: Mapping[str, Any]) -> Verification:
    reason, valid = item["reason"], item["valid"]
    if not _is_reason(reason) or not isinstance(valid, bool) or valid != (reason == "ok"):
        raise ValueError(f"unexpected verification {reason!r}/{valid!r}")
    return Verification(identifier=_text(item["identifier"]), valid=valid, reason=reason)


def holder_to_json(holder: Holder | Party) -> dict[str, str | None]:
    role = {"role": holder.role} if isinstance(holder, Party) else {}
    return {**role, "name": holder.name, "code": holder.code, "code_type": holder.code_type}


def _common(item: Mapping[str, Any]) -> dict[str, Any]:
    status, until = item["status"], item["valid_until"]
    if not _is_status(status):
        raise ValueError(f"unexpected status {status!r}")
    holder = Holder(
        name=_text(item["holder_name"]),
        code=None if item["holder_code"] is None else _text(item["holder_code"]),
        code_type=_code_type(item["holder_code_type"]),
    )
    texts = ("id", "identifier", "type", "type_code", "name", "number")
    return {key: _text(item[key]) for key in texts} | {
        "holder": holder,
        "issued_on": date.fromisoformat(item["issued_on"]),
        "valid_until": None if until is None else date.fromisoformat(until),
        "status": status,
    }


def _party(item: Mapping[str, Any]) -> Party:
    code = item["code"]
    return Party(
        role=_text(item["role"]),
        name=_text(item["name"]),
        code=None if code is None else _text(code),
        code_type=_code_type(item["code_type"]),
    )


def _code_type(value: object) -> CodeType:
    if not _is_code_type(value):
        raise ValueError(f"unexpected holder code type {value!r}")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _is_status(value: object) -> TypeGuard[Status]:
    return value in get_args(Status)


def _is_reason(value: object) -> TypeGuard[Reason]:
    return value in get_args(Reason)


def _is_code_type(value: object) -> TypeGuard[CodeType]:
    return value in get_args(CodeType)
