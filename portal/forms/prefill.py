"""Prefill: fill the merged form from where the data already is, and say where from.

Sources (the catalog's ``prefill`` names them): ``identity`` (the verified sign-in; locked),
``profile`` (saved contacts, only with the reuse consent), ``enterprise`` (the registry
record of the enterprise acted for; its name and USCC locked), ``license`` (data fields of
the holder's e-licenses) and ``previous`` (the subject's last application, with consent).
Resolution is pure: ``PrefillContext`` is gathered first (see portal.applications.prefill_io).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from portal.catalog.schema import FieldType, FormField
from portal.forms import divisions
from portal.forms.validation import check_value

LOCKED = {
    "identity.name",
    "identity.id_number",
    "identity.sex",
    "identity.birth_date",
    "enterprise.name",
    "enterprise.uscc",
}


@dataclass(frozen=True)
class Prefilled:
    value: Any
    source: str  # identity | profile | enterprise | license | previous
    detail: str  # e.g. the license type key
    locked: bool


@dataclass
class PrefillContext:
    identity: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str] | None = None  # None: no reuse consent
    enterprise: dict[str, Any] | None = None
    licenses: dict[str, dict[str, Any]] = field(default_factory=dict)  # type key → data
    previous: dict[str, Any] | None = None  # None: no consent or no earlier application


def identity_claims(name: str, id_number: str | None, phone: str | None) -> dict[str, str]:
    claims = {"name": name}
    if id_number:
        claims["id_number"] = id_number
        claims["birth_date"] = f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"
        claims["sex"] = "male" if int(id_number[16]) % 2 else "female"
    if phone:
        claims["phone"] = phone
    return claims


def lookup(source: str, ctx: PrefillContext) -> Any:
    kind, _, rest = source.partition(".")
    if kind == "identity":
        return ctx.identity.get(rest)
    if kind == "profile":
        return (ctx.profile or {}).get(rest)
    if kind == "enterprise":
        return (ctx.enterprise or {}).get(rest)
    if kind == "license":
        type_key, _, data_field = rest.partition(".")
        return ctx.licenses.get(type_key, {}).get(data_field)
    if kind == "previous":
        return (ctx.previous or {}).get(rest)
    return None


def coerce(form_field: FormField, raw: Any) -> Any | None:
    """The source's value in the field's shape, or None when it does not fit the field."""
    if raw is None or raw == "":
        return None
    value: Any
    if form_field.type == FieldType.ADDRESS:
        if isinstance(raw, dict):
            value = raw
        else:
            parsed = divisions.parse_text(str(raw))
            if parsed is None:
                return None
            value = dict(zip(("province", "city", "county", "street"), parsed, strict=True))
    elif form_field.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        value = _choice(form_field, raw)
    else:
        value = raw if isinstance(raw, list | dict) else str(raw)
    checked, problems = check_value(form_field, value, form_field.key)
    return None if problems else checked


def _choice(form_field: FormField, raw: Any) -> Any:
    labels = {c.value: c.value for c in form_field.choices}
    labels.update({c.label.zh_Hans: c.value for c in form_field.choices})
    labels.update({c.label.en.lower(): c.value for c in form_field.choices})
    labels.update({"男": "male", "女": "female"} if "male" in labels else {})
    if isinstance(raw, list):
        return [labels.get(str(v), str(v)) for v in raw]
    return labels.get(str(raw), labels.get(str(raw).lower(), str(raw)))


def license_types(fields: Iterable[FormField]) -> set[str]:
    """The e-license types whose data these fields are prefilled from."""
    found = set()
    for form_field in fields:
        kind, _, rest = (form_field.prefill or "").partition(".")
        if kind == "license":
            found.add(rest.partition(".")[0])
    return found


def prefill(fields: Iterable[FormField], ctx: PrefillContext) -> dict[str, Prefilled]:
    found: dict[str, Prefilled] = {}
    for form_field in fields:
        if not form_field.prefill:
            continue
        value = coerce(form_field, lookup(form_field.prefill, ctx))
        if value is None:
            continue
        kind, _, rest = form_field.prefill.partition(".")
        found[form_field.key] = Prefilled(
            value=value,
            source=kind,
            detail=rest.partition(".")[0] if kind == "license" else rest,
            locked=form_field.prefill in LOCKED,
        )
    return found
