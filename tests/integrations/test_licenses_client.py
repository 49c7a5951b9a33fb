"""The portal's e-license library client against the sandbox library, over real HTTP."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta

import httpx2
import pytest
from PIL import Image

from integrations.licenses import (
    RESIDENT_ID,
    USCC,
    Holder,
    LicenseLibrary,
    LicenseLibraryError,
    LicenseNotFound,
    check_identifier,
    make_identifier,
)
from integrations.sandbox.people import HAOWEIDAO, DemoPerson, person_by_sub
from tests.integrations.helpers import API_KEY, Sandbox, free_port


@pytest.fixture
def library(sandbox: Sandbox) -> LicenseLibrary:
    return LicenseLibrary(sandbox.licenses_api, API_KEY)


def person(sub: str) -> DemoPerson:
    found = person_by_sub(sub)
    assert found is not None
    return found


def test_list_for_a_person(library: LicenseLibrary) -> None:
    zhang = person("zhang-wei")

    found = asyncio.run(library.list_for_holder(zhang.id_number, RESIDENT_ID))

    assert {item.type: item.relation for item in found} == {
        "resident_id_card": "holder",
        "household_register": "holder",
        "marriage_certificate": "holder",
        "birth_medical_certificate": "father",
        "social_security_card": "holder",
        "real_estate_certificate": "holder",
    }
    own = [item for item in found if item.relation == "holder"]
    assert all(item.holder == Holder("张伟", zhang.id_number, RESIDENT_ID) for item in own)
    assert all(check_identifier(item.identifier) for item in found)


def test_the_birth_certificate_is_found_by_either_parent(library: LicenseLibrary) -> None:
    lists = {
        sub: asyncio.run(library.list_for_holder(person(sub).id_number, RESIDENT_ID))
        for sub in ("zhang-wei", "li-na")
    }
    births = {
        sub: [item for item in found if item.type == "birth_medical_certificate"]
        for sub, found in lists.items()
    }

    assert [item.relation for item in births["li-na"]] == ["mother"]
    assert births["zhang-wei"][0].id == births["li-na"][0].id
    certificate = asyncio.run(library.get(births["li-na"][0].id))
    assert certificate.holder == Holder("张语桐", None, RESIDENT_ID)  # no ID number yet
    assert {party.role: party.code for party in certificate.related_parties} == {
        "mother": person("li-na").id_number,
        "father": person("zhang-wei").id_number,
    }
    assert certificate.data["mother_id_number"] == person("li-na").id_number


def test_get_a_license(library: LicenseLibrary) -> None:
    zhao = person("zhao-min")

    card = asyncio.run(library.get("lic-zhao-min-resident-id-card"))

    assert (card.type, card.type_code, card.name) == (
        "resident_id_card",
        "11100000000013338W001",
        "居民身份证",
    )
    assert (card.number, card.holder.code, card.holder.name) == (zhao.id_number,) * 2 + ("赵敏",)
    assert card.data["id_number"] == zhao.id_number
    assert card.data["sex"] == "女"
    assert card.data["birth_date"] == "1988-01-22"
    assert card.issuer.name == "新乡市公安局"
    assert card.identifier.split(".")[6] == card.issuer.code
    assert card.jurisdiction == "410700"
    assert card.valid_until == date(2035, 7, 6) and card.status == "valid"


def test_file_is_a_png(library: LicenseLibrary) -> None:
    content, content_type = asyncio.run(library.file("lic-liu-qiang-discharge-certificate"))

    assert content_type == "image/png"
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    assert 400 <= image.width <= 1200 and 200 <= image.height <= 900


def test_unknown_license(library: LicenseLibrary) -> None:
    with pytest.raises(LicenseNotFound) as raised:
        asyncio.run(library.get("lic-nobody-resident-id-card"))
    with pytest.raises(LicenseNotFound):
        asyncio.run(library.file("lic-nobody-resident-id-card"))

    assert (raised.value.status, raised.value.error) == (404, "not_found")


def test_verify(library: LicenseLibrary) -> None:
    card = asyncio.run(library.get("lic-chen-jing-degree-certificate"))
    *head, check = card.identifier.split(".")
    wrong_check = ".".join([*head, "Z" if check != "Z" else "Y"])
    not_issued = make_identifier(card.type_code, card.issuer.code, "9999999", 1)

    answers = {
        name: asyncio.run(library.verify(identifier))
        for name, identifier in {
            "ok": card.identifier,
            "bad_check": wrong_check,
            "unknown": not_issued,
        }.items()
    }

    assert {name: answer.reason for name, answer in answers.items()} == {
        "ok": "ok",
        "bad_check": "bad_check",
        "unknown": "unknown",
    }
    assert answers["ok"].valid and answers["ok"].identifier == card.identifier
    assert not answers["bad_check"].valid and not answers["unknown"].valid


def test_verify_revoked(library: LicenseLibrary) -> None:
    revoked = asyncio.run(library.get("lic-wu-lei-driving-license"))

    answer = asyncio.run(library.verify(revoked.identifier))

    assert revoked.status == "revoked" and not revoked.usable_on(date.today())
    assert (answer.valid, answer.reason) == (False, "revoked")


def test_verify_expired(
    library: LicenseLibrary, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    food = asyncio.run(library.get("lic-haoweidao-food-business-license"))
    assert food.valid_until is not None
    assert asyncio.run(library.verify(food.identifier)).reason == "ok"

    monkeypatch.setattr(sandbox.license_store, "today", lambda: food.valid_until + timedelta(1))
    answer = asyncio.run(library.verify(food.identifier))

    assert (answer.valid, answer.reason) == (False, "expired")


def test_a_company_by_its_uscc(library: LicenseLibrary) -> None:
    found = asyncio.run(library.list_for_holder(HAOWEIDAO.uscc, USCC))

    assert sorted(item.type for item in found) == ["business_license", "food_business_license"]
    assert all(item.holder == Holder(HAOWEIDAO.name, HAOWEIDAO.uscc, USCC) for item in found)
    food = next(item for item in found if item.type == "food_business_license")
    assert food.valid_until is not None
    assert 0 < (food.valid_until - date.today()).days <= 20  # the renewal reminder's case
    # The same code as a resident ID number is a different holder: no mix-up.
    with pytest.raises(LicenseLibraryError) as raised:
        asyncio.run(library.list_for_holder(HAOWEIDAO.uscc, RESIDENT_ID))
    assert raised.value.status == 400


def test_someone_without_licenses_gets_an_empty_list(library: LicenseLibrary) -> None:
    other = "91410703MA47K2QX0P"  # registered, but holds nothing in the library

    assert asyncio.run(library.list_for_holder(other, USCC)) == []


def test_issue_a_license(library: LicenseLibrary) -> None:
    wang = person("wang-jianguo")
    data = {"name": wang.name, "id_number": wang.id_number}
    data |= {"retired_on": "2026-10-09", "employer": "新乡市某机械厂"}

    issued = asyncio.run(
        library.issue("retirement_certificate", Holder(wang.name, wang.id_number), data)
    )

    assert issued.type == "retirement_certificate" and issued.status == "valid"
    assert issued.data == data and issued.valid_until is None
    assert issued.issuer.name == "新乡市人力资源和社会保障局"
    assert check_identifier(issued.identifier) and issued.identifier.endswith(
        f".001.{issued.identifier[-1]}"
    )
    assert asyncio.run(library.get(issued.id)) == issued
    listed = asyncio.run(library.list_for_holder(wang.id_number, RESIDENT_ID))
    assert issued.id in {item.id for item in listed}
    assert asyncio.run(library.verify(issued.identifier)).reason == "ok"


def test_issue_refuses_data_that_does_not_fit_the_type(library: LicenseLibrary) -> None:
    wang = person("wang-jianguo")
    holder = Holder(wang.name, wang.id_number)

    with pytest.raises(LicenseLibraryError) as missing:
        asyncio.run(library.issue("retirement_certificate", holder, {"name": wang.name}))
    with pytest.raises(LicenseLibraryError) as unknown:
        asyncio.run(library.issue("no_such_license", holder, {}))
    with pytest.raises(LicenseLibraryError) as bad_holder:
        asyncio.run(library.issue("retirement_certificate", Holder("王建国", "410000"), {}))

    assert {error.value.status for error in (missing, unknown, bad_holder)} == {400}
    assert "retired_on" in missing.value.message


def test_wrong_or_missing_key_is_refused(sandbox: Sandbox, http: httpx2.Client) -> None:
    wrong = LicenseLibrary(sandbox.licenses_api, "not-the-key")

    with pytest.raises(LicenseLibraryError) as raised:
        asyncio.run(wrong.get("lic-zhang-wei-resident-id-card"))
    bare = http.get(f"{sandbox.licenses_api}/licenses/lic-zhang-wei-resident-id-card")

    assert (raised.value.status, raised.value.error) == (401, "unauthorized")
    assert bare.status_code == 401
    assert bare.json()["error"] == "unauthorized"
    assert bare.headers["www-authenticate"].startswith("Bearer")


def test_unreachable_library() -> None:
    library = LicenseLibrary(f"http://127.0.0.1:{free_port()}/licenses/api/v1", API_KEY)

    with pytest.raises(LicenseLibraryError) as raised:
        asyncio.run(library.verify("1.2.156.3005.2.x"))

    assert raised.value.status is None


def test_calls_share_one_tls_context(
    library: LicenseLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the CA bundle for every call took half a portal worker's CPU (docs/load.md).
    import httpcore2

    from integrations.tls import shared_context

    shared_context()  # built once, before counting
    built: list[object] = []
    real = httpcore2.default_ssl_context

    def counted(*args: object, **kwargs: object) -> object:
        built.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpcore2, "default_ssl_context", counted)
    zhang = person("zhang-wei")
    for _ in range(3):
        asyncio.run(library.list_for_holder(zhang.id_number, RESIDENT_ID))
    assert built == []


def test_a_shared_client_reuses_its_connection(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A connection per call was a third of a loaded worker's CPU (docs/load.md): the web app
    # gives the library its keep-alive client.
    from httpcore2._backends.anyio import AnyIOBackend

    opened: list[object] = []
    real = AnyIOBackend.connect_tcp

    async def counted(self: AnyIOBackend, *args: object, **kwargs: object) -> object:
        opened.append(args)
        return await real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AnyIOBackend, "connect_tcp", counted)
    zhang = person("zhang-wei")

    async def three_calls(http: httpx2.AsyncClient | None) -> None:
        library = LicenseLibrary(sandbox.licenses_api, API_KEY, http=http)
        for _ in range(3):
            await library.list_for_holder(zhang.id_number, RESIDENT_ID)

    async def shared() -> None:
        async with httpx2.AsyncClient() as http:
            await three_calls(http)

    asyncio.run(shared())
    assert len(opened) == 1
    asyncio.run(three_calls(None))
    assert len(opened) == 4
