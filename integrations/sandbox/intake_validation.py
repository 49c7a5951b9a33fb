"""What the platform checks when a write arrives (docs/intake-api.md §4, "checked at
submission"): the JSON shape and formats, that items, fields and materials belong to the
one-thing, that required fields and materials are there, ``tolerate`` only where the
configuration allows it, and who signed. Anything an applicant could fix is the review's
business, not this module's: it comes back later in a notice, never as a 422.

Field values are checked by the portal's own field checks (the configuration is the same
YAML, 同源), and must already be in their canonical form (dates ``YYYY-MM-DD``, money with
two decimals, capital ``X``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from integrations.sandbox.intake_models import Json
from integrations.sandbox.intake_shapes import KEY, MOBILE, Problems, pointer
from portal.catalog.loader import Catalog
from portal.catalog.schema import FieldType, FormField, Item, OneThing
from portal.forms.merged import materials_for, merged_form, shown
from portal.forms.validation import check_value

APPLICATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NOTICE_ID = re.compile(r"^ntc_[0-9A-HJKMNP-TV-Z]{26}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# The contract wants https://; the sandbox also takes plain http:// so that a portal on
# a loopback port can serve its files to it.
FILE_URL = re.compile(r"^https?://\S{1,1990}$")
CONTENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
LANGUAGES = ("zh-Hans", "zh-Hant", "en", "ug")
CANONICAL = {FieldType.RESIDENT_ID, FieldType.USCC, FieldType.MOBILE, FieldType.DATE}
CANONICAL |= {FieldType.MONEY, FieldType.BANK_ACCOUNT, FieldType.NUMBER}
CODES = {"required_choice": "required", "required_group": "required", "address_street": "required"}
SUBMIT_REQUIRED = (
    *("application_id", "one_thing", "submitted_at", "subject", "operator"),
    *("contact", "items", "form", "materials", "delivery"),
)
MAX_FILE = 20 * 1024 * 1024


def check_submission(body: Json, catalog: Catalog) -> list[Json]:
    p = Problems()
    p.obj(body, "", SUBMIT_REQUIRED, ("submission_number", "answers"))
    p.matches(body.get("application_id"), "/application_id", APPLICATION_ID, "application_id")
    if "submission_number" in body:
        p.text(body["submission_number"], "/submission_number", 32)
    p.moment(body.get("submitted_at"), "/submitted_at")
    subject = p.subject(body.get("subject"), "/subject")
    operator = p.operator(body.get("operator"), "/operator") or {}
    if (contact := p.obj(body.get("contact"), "/contact", ("name", "mobile"))) is not None:
        p.text(contact.get("name"), "/contact/name", 50)
        p.matches(contact.get("mobile"), "/contact/mobile", MOBILE, "mobile")
    _answers(p, body.get("answers", {}))
    same = subject is not None and subject.get("id_number") == operator.get("id_number")
    if operator.get("role") == "self" and subject is not None and not same:
        p.add("/operator/id_number", "subject_mismatch", "A self operator is the subject.")
    _delivery(p, body.get("delivery"))
    thing = catalog.things.get(str(body.get("one_thing")))
    if thing is None:
        p.add("/one_thing", "unknown", f"No one-thing {body.get('one_thing')!r} is configured.")
        return p.errors
    items = _items(p, thing, body.get("items"))
    form, materials = p.mapping(body.get("form"), "/form"), body.get("materials")
    if form is None:
        return p.errors
    check_form(p, thing, form, "/form", merged_form(thing, items).fields)
    check_materials(p, thing, materials, str(operator.get("name")), catalog)
    if isinstance(materials, dict):
        for material in materials_for(thing, items, form):
            if material.key not in materials:
                at = pointer("materials", material.key)
                p.add(at, "material_missing", f"Material {material.key} is required.")
    return p.errors


def check_form(
    p: Problems, thing: OneThing, values: Mapping[str, Any], at: str, required: Sequence[FormField]
) -> None:
    """Every value in ``values`` is a known field's, well formed; every ``required`` field
    that is shown has a value."""
    fields = {f.key: f for f in thing.fields}
    for key, raw in values.items():
        known = fields.get(key)
        if known is None:
            p.add(at + pointer(key), "unknown", f"No field {key!r} in {thing.code}.")
        elif raw is None:
            p.add(at + pointer(key), "type", "null is not a form value.")
        elif not _empty(raw):
            _value(p, known, raw, at + pointer(key))
    for wanted in required:
        if wanted.required and shown(wanted, values) and _empty(values.get(wanted.key)):
            p.add(at + pointer(wanted.key), "required", f"Field {wanted.key} is required.")


def check_materials(
    p: Problems,
    thing: OneThing,
    value: Any,
    signer: str,
    catalog: Catalog,
    *,
    at: str = "/materials",
    tolerate: bool = True,
) -> None:
    known = {m.key: m for m in thing.materials}
    for key, provision in (p.mapping(value, at) or {}).items():
        here = at + pointer(key)
        material = known.get(key)
        if material is None:
            p.add(here, "unknown", f"No material {key!r} in {thing.code}.")
            continue
        mode = provision.get("mode") if isinstance(provision, dict) else None
        if mode == "license":
            _license(p, provision, here, catalog)
        elif mode == "upload":
            _upload(p, provision, here)
        elif mode == "tolerate" and tolerate and material.tolerable:
            _commitment(p, provision, here, signer)
        elif mode == "tolerate":
            p.add(f"{here}/mode", "not_tolerable", f"Material {key} cannot be tolerated here.")
        else:
            p.one_of(mode, f"{here}/mode", ("license", "upload", "tolerate"))


def check_supplement(body: Json, thing: OneThing, catalog: Catalog) -> list[Json]:
    p = Problems()
    p.obj(body, "", ("notice_id", "submitted_by", "submitted_at"), ("form", "materials", "note"))
    p.matches(body.get("notice_id"), "/notice_id", NOTICE_ID, "notice_id")
    operator = p.operator(body.get("submitted_by"), "/submitted_by") or {}
    p.moment(body.get("submitted_at"), "/submitted_at")
    if "note" in body:
        p.text(body["note"], "/note", 500)
    if (form := p.mapping(body.get("form", {}), "/form")) is not None:
        check_form(p, thing, form, "/form", ())
    signer = str(operator.get("name"))
    check_materials(p, thing, body.get("materials", {}), signer, catalog, tolerate=False)
    return p.errors


def check_withdrawal(body: Json) -> list[Json]:
    p = Problems()
    p.obj(body, "", ("requested_by", "requested_at"), ("items", "reason"))
    if "items" in body:
        items = body["items"]
        if not isinstance(items, list) or not items or len(set(map(str, items))) != len(items):
            p.add("/items", "type", "Must be a non-empty array of distinct item keys.")
        for n, key in enumerate(items if isinstance(items, list) else []):
            p.matches(key, f"/items/{n}", KEY, "key")
    if "reason" in body:
        p.text(body["reason"], "/reason", 500)
    p.operator(body.get("requested_by"), "/requested_by")
    p.moment(body.get("requested_at"), "/requested_at")
    return p.errors


def _answers(p: Problems, value: Any) -> None:
    for key, answer in (p.mapping(value, "/answers") or {}).items():
        at = "/answers" + pointer(key)
        if p.matches(key, at, KEY, "key"):
            p.text(answer, at, 64)


def _items(p: Problems, thing: OneThing, value: Any) -> list[Item]:
    if not isinstance(value, list) or not 1 <= len(value) <= 50:
        p.add("/items", "type", "Must be an array of 1 to 50 items.")
        return []
    known, chosen = {item.key: item for item in thing.items}, list[Item]()
    for n, entry in enumerate(value):
        found = p.obj(entry, f"/items/{n}", ("key", "implementation_code", "department"))
        item = known.get(str((found or {}).get("key")))
        if found is None or item is None:
            if found is not None:
                p.add(f"/items/{n}/key", "unknown_item", f"No item {found.get('key')!r} here.")
            continue
        if item in chosen:
            p.add(f"/items/{n}/key", "duplicate_item", f"Item {item.key} is listed twice.")
            continue
        if found.get("implementation_code") != item.implementation_code:
            detail = f"{item.key} is implemented as {item.implementation_code}."
            p.add(f"/items/{n}/implementation_code", "unknown_item", detail)
        if found.get("department") != item.department:
            p.add(f"/items/{n}/department", "unknown_item", f"{item.key} is {item.department}'s.")
        chosen.append(item)
    return chosen


def _delivery(p: Problems, value: Any) -> None:
    optional = ("address", "recipient", "pickup_place")
    found = p.obj(value, "/delivery", ("mode", "method"), optional)
    if found is None:
        return
    p.one_of(found.get("mode"), "/delivery/mode", ("unified", "per_item"))
    p.one_of(found.get("method"), "/delivery/method", ("mail", "pickup"))
    if found.get("address") is not None:
        p.address(found["address"], "/delivery/address")
    recipient = found.get("recipient")
    if recipient is not None and p.obj(recipient, "/delivery/recipient", ("name", "mobile")):
        p.text(recipient.get("name"), "/delivery/recipient/name", 50)
        p.matches(recipient.get("mobile"), "/delivery/recipient/mobile", MOBILE, "mobile")
    p.text(found.get("pickup_place"), "/delivery/pickup_place", 200, nullable=True)
    for member in ("address", "recipient"):
        if found.get("method") == "mail" and found.get(member) is None:
            p.add(f"/delivery/{member}", "required", f"Mail needs {member}.")


def _license(p: Problems, provision: Json, at: str, catalog: Catalog) -> None:
    p.obj(provision, at, ("mode", "consent", "licenses"))
    if provision.get("consent") is not True:
        p.add(f"{at}/consent", "consent", "The operator's consent must be true.")
    licenses = provision.get("licenses")
    if not isinstance(licenses, list) or not 1 <= len(licenses) <= 10:
        p.add(f"{at}/licenses", "type", "Must be an array of 1 to 10 licenses.")
        return
    for n, reference in enumerate(licenses):
        here = f"{at}/licenses/{n}"
        if (found := p.obj(reference, here, ("identifier", "type"), ("holder_name",))) is None:
            continue
        p.license_identifier(found.get("identifier"), f"{here}/identifier")
        if found.get("type") not in catalog.license_types:
            p.add(f"{here}/type", "unknown", f"No license type {found.get('type')!r}.")
        if "holder_name" in found:
            p.text(found["holder_name"], f"{here}/holder_name", 50)


def _upload(p: Problems, provision: Json, at: str) -> None:
    p.obj(provision, at, ("mode", "files"))
    files = provision.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= 20:
        p.add(f"{at}/files", "type", "Must be an array of 1 to 20 files.")
        return
    for n, entry in enumerate(files):
        here = f"{at}/files/{n}"
        required = ("id", "url", "sha256", "content_type", "size")
        if (found := p.obj(entry, here, required, ("name",))) is None:
            continue
        p.text(found.get("id"), f"{here}/id", 64)
        p.matches(found.get("url"), f"{here}/url", FILE_URL, "url")
        p.matches(found.get("sha256"), f"{here}/sha256", SHA256, "sha256")
        p.one_of(found.get("content_type"), f"{here}/content_type", CONTENT_TYPES)
        size = found.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_FILE:
            p.add(f"{here}/size", "size", f"Must be an integer from 1 to {MAX_FILE}.")
        if "name" in found:
            p.text(found["name"], f"{here}/name", 200)


def _commitment(p: Problems, provision: Json, at: str, signer: str) -> None:
    p.obj(provision, at, ("mode", "commitment"))
    here = f"{at}/commitment"
    found = p.obj(provision.get("commitment"), here, ("text", "language", "signed_by", "signed_at"))
    if found is None:
        return
    p.text(found.get("text"), f"{here}/text", 2000)
    p.one_of(found.get("language"), f"{here}/language", LANGUAGES)
    if found.get("signed_by") != signer:
        p.add(f"{here}/signed_by", "signer_not_operator", "signed_by must equal operator.name.")
    p.moment(found.get("signed_at"), f"{here}/signed_at")


def _value(p: Problems, field: FormField, raw: Any, at: str) -> None:
    """One field's value: its JSON type (``FormValue``), then the portal's own check."""
    if field.type == FieldType.ADDRESS:
        p.address(raw, at)
        return
    if not _json_type_fits(field, raw):
        p.add(at, "type", f"Wrong JSON type for a {field.type.value} field.")
        return
    value, problems = check_value(field, raw, field.key)
    for path, code in problems.items():
        suffix = path.removeprefix(field.key).replace(".", "/")
        p.add(at + suffix, CODES.get(code, code), f"Not a valid {field.type.value} value.")
    if not problems and field.type in CANONICAL and value != raw:
        code = field.type.value
        p.add(at, code, f"Not in canonical form: {value!r} would be.")


def _json_type_fits(field: FormField, raw: Any) -> bool:
    if field.type == FieldType.MULTI_CHOICE:
        return isinstance(raw, list) and all(isinstance(v, str) for v in raw)
    if field.type == FieldType.GROUP:
        return isinstance(raw, list) and all(isinstance(v, dict) for v in raw)
    if field.type == FieldType.NUMBER:
        return isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 999_999_999
    return isinstance(raw, str) and len(raw) <= 2000


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}
