"""The portal's check before submit against the platform's own validation (the sandbox's
``check_submission``, what answers 422): for drafts of every one-thing in the catalog, a
well-formed one and others with a few things broken (values typed non-canonically, invalid
or left in a hidden field, licences missing their identifier as when the library could not
answer, 容缺 signed by someone else, too many or no files), the portal refuses every draft
the platform would refuse, and lets through the ones it would take."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from integrations.licenses.identifier import make_identifier
from integrations.sandbox.intake_validation import check_submission
from portal.applications import package, readiness
from portal.applications.models import Application, Upload
from portal.applications.package import Operator, Party
from portal.applications.services import Handover
from portal.catalog.loader import Catalog, load_catalog
from portal.catalog.schema import FieldType, FormField, Material, OneThing
from portal.forms.applicability import applicable_items
from portal.forms.merged import materials_for, merged_form

CATALOG = load_catalog()
SIGNER = Party(name="李娜", id_number="410702199408270425", mobile="13837310521")
IDENTIFIER = make_identifier("11100000000013338W032", "11220000013544541J", "2430599")
ADDRESS = {"province": "41", "city": "4107", "county": "410702", "street": "人民路 1 号"}
DRAFTS_PER_THING = 24

# Per field type: a valid value as typed, the same typed another accepted way, an invalid one.
TYPED: dict[FieldType, tuple[Any, Any, Any]] = {
    FieldType.TEXT: ("张三", " 张三 ", "长" * 201),
    FieldType.TEXTAREA: ("情况说明", "情况说明 ", "长" * 2001),
    FieldType.RESIDENT_ID: ("410702199408270425", "410702 19940827 0425", "410702199408270426"),
    FieldType.USCC: ("91410700MA45RT3K8A", "91410700ma45rt3k8a", "91410700MA45RT3K8B"),
    FieldType.MOBILE: ("13812345678", "138-1234-5678", "1381234567"),
    FieldType.EMAIL: ("li@example.cn", "li@example.cn", "li@"),
    FieldType.DATE: ("2024-01-02", "2024/1/2", "2024-02-30"),
    FieldType.MONEY: ("1200.50", "1,200.5", "12.345"),
    FieldType.NUMBER: ("3", "3", "three"),
    FieldType.BANK_ACCOUNT: ("6222021234567890123", "6222 0212 3456 7890 123", "62220"),
    FieldType.ADDRESS: (
        ADDRESS,
        {**ADDRESS, "street": " 人民路 1 号 "},
        {**ADDRESS, "county": "1"},
    ),
}


def value(f: FormField, kind: int, rng: random.Random) -> Any:
    """kind 0: valid, 1: valid typed another way, 2: invalid."""
    if f.type == FieldType.CHOICE:
        return (f.choices[0].value, f.choices[-1].value, "nothing-like-it")[kind]
    if f.type == FieldType.MULTI_CHOICE:
        return ([f.choices[0].value], [c.value for c in f.choices], ["nothing-like-it"])[kind]
    if f.type == FieldType.GROUP:
        row = {sub.key: value(sub, min(kind, 1), rng) for sub in f.fields}
        if kind == 2:
            broken = rng.choice(f.fields)
            row[broken.key] = value(broken, 2, rng)
        return [row]
    return TYPED[f.type][kind]


def upload(key: str, n: int = 0, content_type: str = "image/jpeg", size: int = 5000) -> Upload:
    return Upload(
        public_id=f"upl{key}{n}",
        material_key=key,
        sha256="a" * 64,
        content_type=content_type,
        size=size,
        original_name="photo.jpg",
    )


def provided(material: Material) -> tuple[dict[str, Any], list[Upload]]:
    """Each material as a person would give it: the licence, a signed 容缺, a photo."""
    if material.license_type:
        state = {"mode": "license", "license_id": "lic-1", "identifier": IDENTIFIER}
        return state | {"type": material.license_type, "consent": True}, []
    if material.tolerable:
        signed = {"signed_by": SIGNER.name, "signed_at": "2026-12-06T10:00:00+00:00"}
        return {"mode": "tolerate", **signed}, []
    return {"mode": "upload"}, [upload(material.key)]


def material_faults(
    material: Material,
) -> list[Callable[[dict[str, Any], list[Upload]], list[Upload]]]:
    """Ways to get a material wrong; each changes the state and returns the uploads."""

    def unreachable_library(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.update(mode="license", license_id="lic-1", consent=True, identifier=None)
        state.update(type=None, holder_name=None)
        return files

    def no_consent(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.update(mode="license", identifier=IDENTIFIER, consent=False)
        return files

    def bad_identifier(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.update(mode="license", identifier=IDENTIFIER[:-1] + "0", consent=True)
        return files

    def other_signer(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.update(mode="tolerate", signed_by="王五", signed_at="2026-12-06T10:00:00+00:00")
        return files

    def unsigned(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.clear()
        state.update(mode="tolerate")
        return [upload(material.key)]  # a photo too: the mode chosen is what is sent

    def nothing(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.clear()
        state.update(mode="upload")
        return []

    def too_many(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.clear()
        return [upload(material.key, n) for n in range(21)]

    def wrong_type(state: dict[str, Any], files: list[Upload]) -> list[Upload]:
        state.clear()
        return [upload(material.key, content_type="image/gif")]

    licence = [unreachable_library, no_consent, bad_identifier]
    return [*licence, other_signer, unsigned, nothing, too_many, wrong_type]


def draft_of(thing: OneThing, rng: random.Random, faults: int) -> dict[str, Any]:
    answers = {s.key: rng.choice(s.answers).key for s in thing.situations}
    values = {f.key: value(f, rng.choice((0, 0, 1)), rng) for f in thing.fields}
    delivery = next((f for f in thing.fields if f.key == "delivery_method"), None)
    if delivery is not None and rng.random() < 0.5:  # mailed: the address is needed too
        values["delivery_method"] = rng.choice(delivery.choices).value
    states, files = {}, []
    for material in thing.materials:
        states[material.key], mine = provided(material)
        files += mine
    signer_mobile: str | None = SIGNER.mobile
    for _ in range(faults):
        fault = rng.randrange(6)
        form = merged_form(thing, applicable_items(thing, answers)).fields
        f = rng.choice(form if form and rng.random() < 0.8 else thing.fields)
        if fault == 0:
            values[f.key] = value(f, 2, rng)
        elif fault == 1:
            values[f.key] = "" if f.type != FieldType.GROUP else []
        elif fault == 2:
            values.pop(f.key, None)
        elif fault == 3:
            signer_mobile = None
            values.update({k: "" for k in readiness.MOBILE_FIELDS if k in values})
        elif fault == 4:
            answers = {s.key: rng.choice(s.answers).key for s in thing.situations}
        else:
            material = rng.choice(thing.materials)
            kept = [u for u in files if u.material_key != material.key]
            mine = [u for u in files if u.material_key == material.key]
            fault_of = rng.choice(material_faults(material))
            files = kept + fault_of(states[material.key], mine)
    signer = readiness.Signer(SIGNER.name, signer_mobile)
    return {
        "answers": answers,
        "values": values,
        "states": states,
        "files": files,
        "signer": signer,
    }


def platform_problems(thing: OneThing, draft: dict[str, Any], catalog: Catalog) -> list[Any]:
    """What the platform says of the package the portal's submit would build (as in
    portal.applications.services.submit)."""
    answers, signer = draft["answers"], draft["signer"]
    items = applicable_items(thing, answers)
    values = readiness.submitted_values(thing, answers, draft["values"])
    person = Party(name=SIGNER.name, id_number=SIGNER.id_number, mobile=signer.mobile)
    handover = Handover(person, Operator(person, "self", "L3"), None, "http://x/f", "s")  # type: ignore[arg-type]
    now = datetime(2026, 12, 6, 10, tzinfo=UTC)
    application = Application(
        public_id="app-readiness-0001",
        submission_number="YJS20261206000001",
        submitted_at=now,
        subject_kind="person",
        answers=answers,
        values=values,
        materials=draft["states"],
        delivery=package.delivery(values, "per_item", handover.recipient(values)),
    )
    body = package.submission(
        application,
        thing,
        items,
        materials_for(thing, items, values),
        draft["files"],
        person,
        handover.operator,
        "http://127.0.0.1:8799/intake-files",
        "secret",
    )
    return check_submission(json.loads(package.canonical(body)), catalog)


def portal_ready(thing: OneThing, draft: dict[str, Any], catalog: Catalog) -> readiness.Readiness:
    return readiness.readiness(
        thing,
        draft["answers"],
        draft["values"],
        draft["states"],
        draft["files"],
        draft["signer"],
        catalog.license_types,
    )


@pytest.mark.parametrize("code", sorted(CATALOG.things))
def test_the_portal_refuses_whatever_the_platform_would(code: str) -> None:
    thing = CATALOG.things[code]
    rng = random.Random(code)
    taken = refused = 0
    for n in range(DRAFTS_PER_THING):
        draft = draft_of(thing, rng, faults=0 if n < 4 else rng.randint(1, 3))
        platform = platform_problems(thing, draft, CATALOG)
        ready = portal_ready(thing, draft, CATALOG)
        said = f"{code} draft {n}: the platform said {platform}, the portal {ready}"
        assert ready.ready == (not platform), said
        taken, refused = taken + ready.ready, refused + (not ready.ready)
    assert taken and refused  # both kinds were tried


def test_a_licence_without_its_identifier_is_refused_on_the_check_page_words() -> None:
    """The load run's refusal: the library could not answer, the licence went without its
    identifier. The portal names the material and the fix."""
    thing = CATALOG.things["newborn"]
    draft = draft_of(thing, random.Random(1), faults=0)
    licensed = next(m for m in thing.materials if m.license_type)
    draft["states"][licensed.key].update(identifier=None, type=None, holder_name=None)
    ready = portal_ready(thing, draft, CATALOG)
    assert ready.materials == {licensed.key: "license_missing"}
    assert platform_problems(thing, draft, CATALOG)
