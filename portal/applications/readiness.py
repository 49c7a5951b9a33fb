"""Whether a draft is ready to submit: what the intake platform checks when a submission
arrives (docs/intake-api.md §4, "checked at submission") and the person can put right,
checked before it leaves, so the platform never refuses (422) what the portal accepted.

Each material is checked the way the package will carry it (package.material_json): a
licence needs its GB/T 36904 identifier, not only the choice; a 容缺 needs the signature of
who submits; an upload needs 1 to 20 files of the platform's types and sizes. The form is
sent as checked: the shown fields of the merged form, in canonical form (``submitted_values``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrations.licenses.identifier import check_identifier
from portal.applications.models import Upload
from portal.catalog.schema import Material, OneThing
from portal.forms.applicability import applicable_items
from portal.forms.merged import materials_for, merged_form
from portal.forms.validation import MOBILE, check

MOBILE_FIELDS = ("mobile", "contact_mobile", "applicant_mobile")  # the contact's, in order
UPLOAD_TYPES = ("image/jpeg", "image/png", "application/pdf")
MAX_FILES = 20
MAX_FILE_BYTES = 20 * 1024 * 1024  # the platform's limit, whatever PORTAL_MAX_UPLOAD_BYTES says
MAX_HOLDER_NAME = 50


@dataclass(frozen=True)
class Readiness:
    """Problems as message codes: by field path, by material key, and of the whole draft
    (``answers``: nothing applies; ``contact``: no mobile to reach the applicant)."""

    fields: dict[str, str] = field(default_factory=dict)
    materials: dict[str, str] = field(default_factory=dict)
    draft: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not (self.fields or self.materials or self.draft)


@dataclass(frozen=True)
class Signer:
    """Who submits: the name a 容缺 commitment must be signed with, the mobile on record."""

    name: str
    mobile: str | None = None


def submitted_values(
    thing: OneThing, answers: Mapping[str, str], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The form as the package carries it: the shown fields of the merged form, checked and
    in canonical form (a value typed ``2024/1/2`` goes as ``2024-01-02``); a field hidden
    since it was typed, or of an item that no longer applies, stays in the draft only."""
    form = merged_form(thing, applicable_items(thing, answers))
    return check(form.fields, values).values


def contact_mobile(values: Mapping[str, Any], signer: Signer) -> str | None:
    for key in MOBILE_FIELDS:
        if isinstance(values.get(key), str) and values[key]:
            return str(values[key])
    return signer.mobile


def readiness(
    thing: OneThing,
    answers: Mapping[str, str],
    values: Mapping[str, Any],
    states: Mapping[str, Mapping[str, Any]],
    uploads: Sequence[Upload],
    signer: Signer,
    license_types: Mapping[str, Any],
) -> Readiness:
    items = applicable_items(thing, answers)
    checked = check(merged_form(thing, items).fields, values)
    materials = {}
    for material in materials_for(thing, items, checked.values):
        mine = [u for u in uploads if u.material_key == material.key]
        code = material_problem(material, states.get(material.key, {}), mine, signer, license_types)
        if code:
            materials[material.key] = code
    fields = dict(checked.problems)
    address = checked.values.get("delivery_address")
    if checked.values.get("delivery_method") == "mail" and not (
        isinstance(address, dict) and address.get("text")
    ):
        fields.setdefault("delivery_address", "required")  # the platform mails nowhere else
    draft = {}
    if not items:
        draft["answers"] = "no_items"
    mobile = contact_mobile(checked.values, signer)
    on_a_field = any(key in checked.problems for key in MOBILE_FIELDS)
    if not on_a_field and not (mobile and MOBILE.match(mobile)):
        draft["contact"] = "contact_mobile"
    return Readiness(fields, materials, draft)


def material_problem(
    material: Material,
    state: Mapping[str, Any],
    uploads: Sequence[Upload],
    signer: Signer,
    license_types: Mapping[str, Any],
) -> str | None:
    """The message code of what keeps this material from going as the package sends it."""
    mode = state.get("mode")
    if mode == "license":
        identifier = state.get("identifier")
        if not (isinstance(identifier, str) and check_identifier(identifier)):
            return "license_missing"
        if (state.get("type") or material.license_type) not in license_types:
            return "license_missing"
        holder = state.get("holder_name")
        if holder is not None and not (
            isinstance(holder, str) and 0 < len(holder) <= MAX_HOLDER_NAME
        ):
            return "license_missing"
        return None if state.get("consent") is True else "license_consent"
    if mode == "tolerate":
        if not material.tolerable:
            return "material_missing"
        signed = state.get("signed_by") == signer.name and bool(state.get("signed_at"))
        return None if signed else "signature"
    if not uploads:
        return "material_missing"
    if len(uploads) > MAX_FILES:
        return "upload_too_many"
    if any(u.content_type not in UPLOAD_TYPES for u in uploads):
        return "upload_bad_type"
    if any(not 0 < u.size <= MAX_FILE_BYTES for u in uploads):
        return "upload_too_big"
    return None
