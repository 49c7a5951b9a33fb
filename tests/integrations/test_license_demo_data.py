"""The sandbox library's demo licenses: every one fits its type, names the demo people as
people.py has them, and the cases later work relies on are there."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta

from stdnum.cn import ric, uscc

from integrations.licenses import RESIDENT_ID, USCC, LicenseLibrary, check_identifier
from integrations.licenses.types import license_type, license_types
from integrations.sandbox.license_authorities import AUTHORITIES, DEFAULT_ISSUERS
from integrations.sandbox.license_demo import demo_licenses
from integrations.sandbox.license_store import StoredLicense
from integrations.sandbox.people import HAOWEIDAO, PEOPLE, person_by_sub
from integrations.sandbox.registry import HAOWEIDAO_RECORD
from tests.integrations.helpers import API_KEY, Sandbox

TODAY = date(2026, 11, 22)
DEMO = demo_licenses(TODAY)


def held_by(sub: str) -> set[str]:
    person = person_by_sub(sub)
    assert person is not None
    return {item.type.key for item in DEMO if item.holder.code == person.id_number}


def by_id(license_id: str) -> StoredLicense:
    return next(item for item in DEMO if item.id == license_id)


def test_every_demo_license_has_exactly_its_types_fields_over_http(sandbox: Sandbox) -> None:
    library = LicenseLibrary(sandbox.licenses_api, API_KEY)
    holders = [(person.id_number, RESIDENT_ID) for person in PEOPLE] + [(HAOWEIDAO.uscc, USCC)]

    async def fetch_all() -> set[str]:
        seen: set[str] = set()
        for code, code_type in holders:
            for summary in await library.list_for_holder(code, code_type):
                found = await library.get(summary.id)
                # Exactly the type's fields, in the catalog's order, each with a value.
                assert list(found.data) == list(license_type(found.type).fields), found.id
                assert all(value.strip() for value in found.data.values()), found.id
                seen.add(found.id)
        return seen

    assert {item.id for item in DEMO} <= asyncio.run(fetch_all())


def test_every_type_used_is_in_the_catalog_and_fits() -> None:
    for item in DEMO:
        assert item.type == license_types()[item.type.key]
        assert set(item.data) == set(item.type.fields), item.id


def test_ids_and_identifiers_are_unique_and_valid() -> None:
    assert len({item.id for item in DEMO}) == len(DEMO)
    assert len({item.identifier for item in DEMO}) == len(DEMO)
    assert all(check_identifier(item.identifier) for item in DEMO)
    assert all(uscc.is_valid(authority.code) for authority in AUTHORITIES)
    assert set(DEFAULT_ISSUERS) <= set(license_types())


def test_everyone_has_an_id_card_and_a_household_register() -> None:
    for person in PEOPLE:
        card = by_id(f"lic-{person.sub}-resident-id-card").data
        assert held_by(person.sub) >= {"resident_id_card", "household_register"}
        assert (card["name"], card["id_number"]) == (person.name, person.id_number)
        assert card["birth_date"] == ric.get_birth_date(person.id_number).isoformat()
        assert card["sex"] == ("男" if int(person.id_number[16]) % 2 else "女")


def test_who_holds_what() -> None:
    assert held_by("zhang-wei") >= {"marriage_certificate", "real_estate_certificate"}
    assert "marriage_certificate" in held_by("li-na")
    assert "discharge_certificate" in held_by("liu-qiang")
    assert "disability_certificate" in held_by("zhao-min")
    assert "degree_certificate" in held_by("chen-jing")
    assert "driving_license" in held_by("zhou-jie")
    assert "retirement_certificate" not in held_by("wang-jianguo")  # about to retire
    assert sum("social_security_card" in held_by(p.sub) for p in PEOPLE) >= 5
    company = {item.type.key for item in DEMO if item.holder.code == HAOWEIDAO.uscc}
    assert company == {"business_license", "food_business_license"}


def test_spouses_name_each_other() -> None:
    zhang, li = person_by_sub("zhang-wei"), person_by_sub("li-na")
    assert zhang is not None and li is not None
    his = by_id("lic-zhang-wei-marriage-certificate")
    hers = by_id("lic-li-na-marriage-certificate")

    assert (his.data["spouse_name"], his.data["spouse_id_number"]) == (li.name, li.id_number)
    assert (hers.data["spouse_name"], hers.data["spouse_id_number"]) == (
        zhang.name,
        zhang.id_number,
    )
    assert his.number == hers.number
    assert his.data["registration_date"] == hers.data["registration_date"]


def test_the_newborn_is_recent_and_names_both_parents() -> None:
    birth = by_id("lic-zhang-yutong-birth-medical-certificate")
    parents = {party.role: party for party in birth.parties}

    assert birth.holder.code is None
    assert date.fromisoformat(birth.data["birth_date"]) > TODAY - timedelta(days=30)
    assert parents["mother"].code == birth.data["mother_id_number"]
    assert parents["father"].code == birth.data["father_id_number"]
    assert (parents["mother"].name, parents["father"].name) == ("李娜", "张伟")


def test_the_business_licence_agrees_with_the_registry() -> None:
    data = by_id("lic-haoweidao-business-license").data

    assert data["uscc"] == HAOWEIDAO_RECORD.uscc == HAOWEIDAO.uscc
    assert data["enterprise_name"] == HAOWEIDAO_RECORD.name == HAOWEIDAO.name
    assert data["legal_representative"] == "孙丽"
    assert data["registered_capital"] == HAOWEIDAO_RECORD.registered_capital


def test_one_close_to_expiry_and_one_revoked() -> None:
    soon = [
        item.id
        for item in DEMO
        if item.valid_until is not None and TODAY <= item.valid_until <= TODAY + timedelta(20)
    ]
    states = Counter(item.status for item in DEMO)

    assert soon == ["lic-haoweidao-food-business-license"]
    assert by_id(soon[0]).data["valid_until"] == by_id(soon[0]).valid_until.isoformat()  # type: ignore[union-attr]
    assert states == {"valid": len(DEMO) - 1, "revoked": 1}
    assert by_id("lic-wu-lei-driving-license").status == "revoked"
    assert not [item.id for item in DEMO if item.valid_until and item.valid_until < TODAY]
