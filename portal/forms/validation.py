"""Reading and checking the merged form's values, field type by field type.

Values travel as form fields named ``f.<key>`` (``f.<key>.province`` … for an address,
``f.<key>.<n>.<sub>`` for the n-th entry of a repeatable group). Problems are message codes;
templates turn them into words in the user's language. Nothing typed is dropped: an invalid
value is kept as typed so the page can show it again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum.cn import ric, uscc

from portal.catalog.schema import FieldType, FormField
from portal.forms import divisions
from portal.forms.merged import shown

MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BANK_ACCOUNT = re.compile(r"^\d{12,30}$")
DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
)
MAX_TEXT = 200
MAX_TEXTAREA = 2000
ADDRESS_PARTS = ("province", "city", "county", "street")


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]
    problems: dict[str, str]  # field path (key, key.street, key.0.sub) → message code


def read_fields(fields: Sequence[FormField], form: Mapping[str, Any]) -> dict[str, Any]:
    """Raw values of these fields from a submitted form (a Starlette FormData or a dict)."""
    values: dict[str, Any] = {}
    for field in fields:
        values[field.key] = _read(field, f"f.{field.key}", form)
    return values


def _getlist(form: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = form.get(name)
    return (
        [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]
    )


def _read(field: FormField, name: str, form: Mapping[str, Any]) -> Any:
    if field.type == FieldType.ADDRESS:
        return {part: str(form.get(f"{name}.{part}", "")).strip() for part in ADDRESS_PARTS}
    if field.type == FieldType.MULTI_CHOICE:
        return _getlist(form, name)
    if field.type == FieldType.GROUP:
        rows = []
        for index in range(field.max_repeat or 10):
            prefix = f"{name}.{index}"
            if not any(k.startswith(prefix + ".") for k in form):
                break
            row = {sub.key: _read(sub, f"{prefix}.{sub.key}", form) for sub in field.fields}
            if any(v for v in row.values()):  # an untouched blank row is no entry
                rows.append(row)
        return rows
    return str(form.get(name, "")).strip()


def check(fields: Sequence[FormField], values: Mapping[str, Any]) -> Checked:
    """Normalised values and problems for the fields shown given ``values``."""
    clean: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in fields:
        raw = values.get(field.key)
        if not shown(field, values):
            continue
        value, field_problems = check_value(field, raw, field.key)
        clean[field.key] = value
        problems.update(field_problems)
    return Checked(clean, problems)


def check_value(field: FormField, raw: Any, path: str) -> tuple[Any, dict[str, str]]:
    if field.type == FieldType.GROUP:
        return _check_group(field, raw if isinstance(raw, list) else [], path)
    if field.type == FieldType.ADDRESS:
        return _check_address(field, raw if isinstance(raw, dict) else {}, path)
    if field.type == FieldType.MULTI_CHOICE:
        chosen = raw if isinstance(raw, list) else []
        allowed = {c.value for c in field.choices}
        if field.required and not chosen:
            return chosen, {path: "required_choice"}
        if not set(chosen) <= allowed:
            return chosen, {path: "choice"}
        return chosen, {}
    text = "" if raw is None else str(raw).strip()
    if not text:
        return text, (
            {path: "required_choice" if field.type == FieldType.CHOICE else "required"}
            if field.required
            else {}
        )
    value, code = _check_scalar(field, text)
    return (value, {path: code}) if code else (value, {})


def _check_scalar(field: FormField, text: str) -> tuple[Any, str | None]:
    kind = field.type
    if kind == FieldType.RESIDENT_ID:
        compact = text.replace(" ", "").upper()
        return (compact, None) if ric.is_valid(compact) else (text, "resident_id")
    if kind == FieldType.USCC:
        compact = text.replace(" ", "").upper()
        return (compact, None) if uscc.is_valid(compact) else (text, "uscc")
    if kind == FieldType.MOBILE:
        compact = re.sub(r"[\s-]", "", text).removeprefix("+86")
        return (compact, None) if MOBILE.match(compact) else (text, "mobile")
    if kind == FieldType.EMAIL:
        return (text, None) if EMAIL.match(text) else (text, "email")
    if kind == FieldType.DATE:
        parsed = parse_date(text)
        return (parsed.isoformat(), None) if parsed else (text, "date")
    if kind == FieldType.CHOICE:
        return (text, None) if any(c.value == text for c in field.choices) else (text, "choice")
    if kind == FieldType.MONEY:
        return _money(text)
    if kind == FieldType.NUMBER:
        return (int(text), None) if text.isdigit() and len(text) <= 9 else (text, "number")
    if kind == FieldType.BANK_ACCOUNT:
        compact = text.replace(" ", "")
        return (compact, None) if BANK_ACCOUNT.match(compact) else (text, "bank_account")
    limit = MAX_TEXTAREA if kind == FieldType.TEXTAREA else MAX_TEXT
    return (text, None) if len(text) <= limit else (text, "too_long")


def parse_date(text: str) -> date | None:
    for pattern in DATE_FORMS:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    return None


def _money(text: str) -> tuple[Any, str | None]:
    try:
        amount = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        return text, "money"
    if amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > Decimal("1e12"):
        return text, "money"
    return f"{amount:.2f}", None


def _check_address(
    field: FormField, raw: Mapping[str, str], path: str
) -> tuple[Any, dict[str, str]]:
    value = {part: str(raw.get(part, "")).strip() for part in ADDRESS_PARTS}
    if not any(value.values()):
        return value, ({path: "required"} if field.required else {})
    if not divisions.is_chain(value["province"], value["city"], value["county"]):
        return value, {f"{path}.county": "address_division"}
    if not value["street"]:
        return value, {f"{path}.street": "address_street"}
    if len(value["street"]) > MAX_TEXT:
        return value, {f"{path}.street": "too_long"}
    value["text"] = (
        divisions.full_name(value["province"], value["city"], value["county"]) + value["street"]
    )
    return value, {}


def _check_group(field: FormField, rows: list[Any], path: str) -> tuple[Any, dict[str, str]]:
    problems: dict[str, str] = {}
    clean_rows = []
    for index, row in enumerate(rows):
        row = row if isinstance(row, dict) else {}
        clean_row = {}
        for sub in field.fields:
            value, sub_problems = check_value(sub, row.get(sub.key), f"{path}.{index}.{sub.key}")
            clean_row[sub.key] = value
            problems.update(sub_problems)
        clean_rows.append(clean_row)
    if field.required and not clean_rows:
        problems[path] = "required_group"
    return clean_rows, problems
