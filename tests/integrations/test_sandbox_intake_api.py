"""The sandbox intake platform's API as the contract states it (docs/intake-api.md §3–§5,
§9): tokens, problems, the Idempotency-Key rules in their order, what is checked at
submission, reads and withdrawals. Served by uvicorn on a loopback port; one working day
lasts 1000 s here, so nothing moves on by itself while these tests run.

The package builders here are shared with test_sandbox_intake_process.py.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from integrations.sandbox import IntakeClient, create_sandbox_app
from integrations.sandbox.intake_idempotency import fingerprint
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.license_demo import demo_licenses
from integrations.sandbox.people import DemoPerson, person_by_sub
from portal.catalog.loader import Catalog, load_catalog
from tests.integrations.helpers import WECHAT_APPID, WECHAT_SECRET, free_port, mounted, serve

WEBHOOK_SECRET = "whsec_cfMIwkP8HhgMU4Xxyc0YnJolX4Zj2KCyLUVlWGiZeuQ="
NOBODY = f"http://127.0.0.1:{free_port()}/webhooks"  # nothing listens: deliveries keep retrying
PORTAL = IntakeClient("portal", "portal-intake-secret", NOBODY, (WEBHOOK_SECRET,))
OTHER = IntakeClient("other", "other-secret", NOBODY, (WEBHOOK_SECRET,), frozenset({"restaurant"}))
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # the bytes are what count, not the image
INVOICES = b"%PDF-1.7\n" + "新乡市中心医院住院收费票据".encode() * 200
ADDRESS = {
    "province": "41",
    "city": "4107",
    "county": "410711",
    "street": "和平大道北段 229 号院 3 号楼 2 单元 501 室",
    "text": "河南省新乡市牧野区和平大道北段 229 号院 3 号楼 2 单元 501 室",
}
COMMITMENT = (
    "本人承诺所填分娩信息真实，并于受理后 10 个工作日内补交分娩记录；"
    "逾期未补交或信息不实的，同意终止生育医疗费用报销并承担相应法律责任。"
)
ITEMS = {
    "birth_certificate": ("11410700716272175U200117004000001", "health"),
    "vaccination_certificate": ("11410700716272175U200117011000001", "health"),
    "hukou_registration": ("11410700846996761G070111001000002", "police"),
    "social_security_card": ("1141070031439919X3200115008000001", "hrss"),
    "maternity_reimbursement": ("11410700531575313N050109002000001", "medical_insurance"),
    "resident_medical_insurance": ("11410700531575313N200109001000002", "medical_insurance"),
    "parenting_guidance": ("11410700716272175U200117020000001", "health"),
}


def identifier(license_id: str) -> str:
    """The GB/T 36904 identifier of one of the library's demo licenses."""
    return next(item.identifier for item in demo_licenses(date.today()) if item.id == license_id)


def person(sub: str) -> DemoPerson:
    found = person_by_sub(sub)
    assert found is not None
    return found


def upload(files_url: str, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    digest = hashlib.sha256(content).hexdigest()
    file = {"id": f"up-{name.replace('.', '-')}", "url": f"{files_url}/{name}", "sha256": digest}
    return {
        "mode": "upload",
        "files": [file | {"content_type": content_type, "size": len(content)}],
    }


def licensed(license_id: str, kind: str, holder: str) -> dict[str, Any]:
    reference = {"identifier": identifier(license_id), "type": kind, "holder_name": holder}
    return {"mode": "license", "consent": True, "licenses": [reference]}


def newborn_package(
    application_id: str,
    files_url: str = "https://files.example/intake-files",
    applicant: str = "zhang-wei",
    items: tuple[str, ...] = tuple(ITEMS),
    delivery_mode: str = "per_item",
) -> dict[str, Any]:
    """张伟's newborn package as in the contract's example (the applicant may be another
    demo person), with real demo license identifiers and files under ``files_url``."""
    who = person(applicant)
    operator: dict[str, Any] = {"name": who.name, "id_number": who.id_number, "role": "self"}
    operator |= {"assurance_level": "L4", "mobile": who.phone_number, "authorisation": None}
    form = {
        "child_name": "张语桐",
        "child_sex": "female",
        "child_birth_date": "2026-11-10",
        "child_birth_place": "河南省新乡市卫滨区",
        "child_ethnicity": "汉",
        "applicant_name": who.name,
        "applicant_id_number": who.id_number,
        "applicant_role": "father" if int(who.id_number[16]) % 2 else "mother",
        "spouse_name": "李娜",
        "spouse_id_number": "410702199408270425",
        "marriage_date": "2021-05-20",
        "household_address": ADDRESS,
        "household_head": who.name,
        "relation_to_head": "child",
        "medical_costs": "6842.50",
        "bank_account": "6212261706008813527",
        "bank_name": "中国工商银行新乡分行",
        "mobile": who.phone_number,
        "delivery_method": "mail",
        "delivery_address": ADDRESS,
    }
    materials = {
        "parents_id_cards": licensed(
            f"lic-{applicant}-resident-id-card", "resident_id_card", who.name
        ),
        "household_register": licensed(
            f"lic-{applicant}-household-register", "household_register", who.name
        ),
        "marriage_certificate": licensed(
            "lic-zhang-wei-marriage-certificate", "marriage_certificate", "张伟"
        ),
        "birth_medical_certificate": licensed(
            "lic-zhang-yutong-birth-medical-certificate", "birth_medical_certificate", "张语桐"
        ),
        "child_photo": upload(files_url, "photo.jpg", PHOTO, "image/jpeg"),
        "delivery_record": {
            "mode": "tolerate",
            "commitment": {
                "text": COMMITMENT,
                "language": "zh-Hans",
                "signed_by": who.name,
                "signed_at": "2026-11-24T20:38:52+08:00",
            },
        },
        "medical_invoices": upload(files_url, "invoices.pdf", INVOICES, "application/pdf"),
    }
    needed = {m for item in items for m in MATERIALS_OF[item]}
    return {
        "application_id": application_id,
        "submission_number": "YJS20261124000042",
        "one_thing": "newborn",
        "submitted_at": "2026-11-24T20:41:05+08:00",
        "subject": {"kind": "person", "name": who.name, "id_number": who.id_number},
        "operator": operator,
        "contact": {"name": who.name, "mobile": who.phone_number},
        "answers": {"settle_here": "yes", "maternity_paid": "yes", "parenting": "yes"},
        "items": [
            {"key": key, "implementation_code": ITEMS[key][0], "department": ITEMS[key][1]}
            for key in items
        ],
        "form": form,
        "materials": {key: value for key, value in materials.items() if key in needed},
        "delivery": {
            "mode": delivery_mode,
            "method": "mail",
            "address": ADDRESS,
            "recipient": {"name": who.name, "mobile": who.phone_number},
            "pickup_place": None,
        },
    }


MATERIALS_OF = {
    "birth_certificate": ("parents_id_cards",),
    "vaccination_certificate": (),
    "hukou_registration": (
        "parents_id_cards",
        "household_register",
        "marriage_certificate",
        "birth_medical_certificate",
    ),
    "social_security_card": ("child_photo",),
    "maternity_reimbursement": (
        "parents_id_cards",
        "birth_medical_certificate",
        "delivery_record",
        "medical_invoices",
    ),
    "resident_medical_insurance": (),
    "parenting_guidance": (),
}


@dataclass(frozen=True)
class Platform:
    url: str
    app: Starlette

    @property
    def api(self) -> str:
        return f"{self.url}/intake/v1"

    @property
    def control(self) -> str:
        return f"{self.url}/intake/sandbox"

    @property
    def store(self) -> IntakeStore:
        store: IntakeStore = mounted(self.app, "/intake").state.store
        return store


def get_token(http: httpx2.Client, platform: Platform, client: IntakeClient, **form: str) -> str:
    answer = http.post(
        f"{platform.url}/intake/oauth2/token",
        data={"grant_type": "client_credentials", **form},
        auth=(client.client_id, client.client_secret),
    )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def post(
    http: httpx2.Client, url: str, token: str, body: Any, key: str | None = "auto"
) -> httpx2.Response:
    headers = {"authorization": f"Bearer {token}"}
    if key is not None:
        headers["idempotency-key"] = f'"{body["application_id"] if key == "auto" else key}"'
    return http.post(url, json=body, headers=headers)


def start_platform(
    catalog: Catalog, speed: float, clients: list[IntakeClient]
) -> Iterator[Platform]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_sandbox_app(
        url,
        [],
        WECHAT_APPID,
        WECHAT_SECRET,
        intake_clients=clients,
        intake_speed=speed,
        catalog=catalog,
    )
    with serve(app, port):
        yield Platform(url, app)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    yield from start_platform(load_catalog(only=("newborn", "restaurant")), 1000.0, [PORTAL, OTHER])


@pytest.fixture(scope="module")
def token(platform: Platform) -> str:
    with httpx2.Client(timeout=10) as http:
        return get_token(http, platform, PORTAL)


def problem_of(answer: httpx2.Response, status: int, kind: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == f"https://intake.platform.example/problems/{kind}"
    assert body["status"] == status and body["request_id"] and body["detail"]
    return body


def test_the_contract_fingerprint_vector() -> None:
    body = {
        "items": ["resident_medical_insurance"],
        "reason": "改为通过税务渠道自行办理孩子的居民医保参保缴费。",
        "requested_by": {
            "name": "张伟",
            "id_number": "410711199203140316",
            "role": "self",
            "assurance_level": "L4",
            "mobile": "13837310521",
            "authorisation": None,
        },
        "requested_at": "2026-11-26T08:51:58+08:00",
    }
    path = "/applications/Qm3xT8vN1cKpR7sW0aLd4g/withdrawals"
    assert fingerprint("POST", path, body) == (
        "63813f9e40bbfed93ee3ca13f0ad0cabf8d54a6e16aae85f0feeb8543fdc9c6a"
    )


def test_tokens_follow_client_credentials(http: httpx2.Client, platform: Platform) -> None:
    token_url = f"{platform.url}/intake/oauth2/token"
    grant = {"grant_type": "client_credentials"}

    wrong = http.post(token_url, data=grant, auth=(PORTAL.client_id, "nope"))
    not_credentials = http.post(
        token_url, data={"grant_type": "password"}, auth=("portal", PORTAL.client_secret)
    )
    bad_scope = http.post(
        token_url, data=grant | {"scope": "admin"}, auth=("portal", PORTAL.client_secret)
    )
    good = http.post(token_url, data=grant, auth=(PORTAL.client_id, PORTAL.client_secret))

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    assert not_credentials.json()["error"] == "unsupported_grant_type"
    assert bad_scope.json()["error"] == "invalid_scope"
    body = good.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 7200)
    assert set(body["scope"].split()) == {"applications.write", "applications.read"}
    assert good.headers["cache-control"] == "no-store"


def test_calls_without_a_valid_token_are_401(http: httpx2.Client, platform: Platform) -> None:
    for headers in ({}, {"authorization": "Bearer not-a-token"}):
        answer = http.get(f"{platform.api}/applications/Qm3xT8vN1cKpR7sW0aLd4g", headers=headers)
        body = problem_of(answer, 401, "unauthorized")
        assert answer.headers["www-authenticate"] == 'Bearer realm="intake", error="invalid_token"'
        assert body["instance"] == "/applications/Qm3xT8vN1cKpR7sW0aLd4g"


def test_answers_before_the_key_lookup_are_not_stored(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    read_only = get_token(http, platform, PORTAL, scope="applications.read")
    body = newborn_package("NotStored0001")
    url = f"{platform.api}/applications"
    auth = {"authorization": f"Bearer {token}", "idempotency-key": '"NotStored0001"'}
    truncated, as_json = b'{"application_id": ', auth | {"content-type": "application/json"}

    problem_of(post(http, url, read_only, body), 403, "forbidden")
    problem_of(http.post(url, data={"a": "b"}, headers=auth), 415, "unsupported-media-type")
    problem_of(post(http, url, token, body, key=None), 400, "idempotency-key-missing")
    problem_of(post(http, url, token, body, key="x" * 71), 400, "idempotency-key-invalid")
    problem_of(http.post(url, content=truncated, headers=as_json), 400, "malformed-request")
    problem_of(http.post(url, json=[1], headers=auth), 400, "malformed-request")
    assert ("portal", "NotStored0001") not in platform.store.keys

    assert post(http, url, token, body).status_code == 201  # the key was free all along


def test_a_submission_is_stored_and_replayed(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    body = newborn_package("Qm3xT8vN1cKpR7sW0aLd4g")
    url = f"{platform.api}/applications"

    first = post(http, url, token, body)
    reordered = dict(reversed(list(body.items())))  # the same request in JCS terms
    again = post(http, url, token, reordered)

    assert first.status_code == 201, first.text
    location = f"{platform.api}/applications/Qm3xT8vN1cKpR7sW0aLd4g"
    assert first.headers["location"] == location
    application = first.json()
    assert (application["state"], application["sequence"]) == ("under_review", 0)
    assert application["deadline"]["unit"] == "working_hours"
    assert application["deadline"]["amount"] == 2
    assert [item["item_key"] for item in application["items"]] == list(ITEMS)
    assert {(item["state"], item["sequence"]) for item in application["items"]} == {
        ("submitted", 0)
    }
    hukou = application["items"][2]
    assert hukou["department_name"] == "新乡市公安局"
    assert hukou["requires"] == ["birth_certificate"]
    assert hukou["promised_working_days"] == 3
    assert application["delivery"] == body["delivery"]
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == location
    assert again.content == first.content
    assert "idempotent-replayed" not in first.headers


def test_requires_names_only_prerequisites_applied_for(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    items = ("vaccination_certificate", "hukou_registration")  # without birth_certificate
    body = newborn_package("WithoutPrereq01", items=items)

    answer = post(http, f"{platform.api}/applications", token, body)

    assert answer.status_code == 201, answer.text
    assert [item["requires"] for item in answer.json()["items"]] == [[], []]


def test_a_key_reused_for_another_request_is_422(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    url = f"{platform.api}/applications"
    body = newborn_package("ReusedKey00001")
    assert post(http, url, token, body).status_code == 201
    changed = body | {"submission_number": "YJS20261124000043"}

    problem = problem_of(post(http, url, token, changed), 422, "idempotency-key-reused")

    assert problem["idempotency_key"] == "ReusedKey00001"
    assert problem["fingerprint_first"] == fingerprint("POST", "/applications", body)
    assert problem["fingerprint_received"] == fingerprint("POST", "/applications", changed)


def test_an_application_is_submitted_once_whatever_the_key(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    url = f"{platform.api}/applications"
    body = newborn_package("SubmittedOnce01")
    assert post(http, url, token, body).status_code == 201

    problem = problem_of(post(http, url, token, body, key="another-key"), 422, "application-exists")
    replayed = post(http, url, token, body, key="another-key")

    assert problem["application_id"] == "SubmittedOnce01"
    assert problem["application_url"] == f"{platform.api}/applications/SubmittedOnce01"
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.status_code == 422


def test_a_key_in_flight_is_409_then_replayed(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    url = f"{platform.api}/applications"
    body = newborn_package("InFlight000001")
    first: list[httpx2.Response] = []

    def send_first() -> None:
        with httpx2.Client(timeout=10) as other:
            first.append(post(other, url, token, body))

    assert http.post(f"{platform.control}/faults", json={"latency_ms": 600}).status_code == 200
    try:
        sender = threading.Thread(target=send_first)
        sender.start()
        deadline = time.monotonic() + 5
        while ("portal", "InFlight000001") not in platform.store.keys:
            assert time.monotonic() < deadline, "the first request never arrived"
            time.sleep(0.01)
        busy = post(http, url, token, body)
        sender.join(timeout=10)
    finally:
        http.post(f"{platform.control}/faults", json={"latency_ms": 0})

    problem = problem_of(busy, 409, "idempotency-key-in-use")
    assert busy.headers["retry-after"] == "1"
    assert problem["idempotency_key"] == "InFlight000001"
    assert first[0].status_code == 201
    replay = post(http, url, token, body)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == first[0].content


def test_contract_breaches_are_422_with_pointers(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    body = copy.deepcopy(newborn_package("BrokenPackage1"))
    body["form"]["spouse_id_number"] = "410702199408270426"
    body["form"]["medical_costs"] = "6842.5"
    del body["form"]["household_head"]
    body["form"]["favourite_colour"] = "red"
    body["extra"] = True
    licenses = body["materials"]["birth_medical_certificate"]["licenses"]
    licenses[0]["identifier"] = licenses[0]["identifier"][:-1] + "H"
    commitment = body["materials"]["delivery_record"]["commitment"]
    body["materials"]["parents_id_cards"] = {"mode": "tolerate", "commitment": dict(commitment)}
    body["materials"]["delivery_record"]["commitment"]["signed_by"] = "李娜"
    del body["materials"]["medical_invoices"]
    body["items"].append(dict(body["items"][0]))
    body["items"][1]["implementation_code"] = "11410700716272175U200117004000001"
    body["items"].append(
        {"key": "moon_landing", "implementation_code": "1" * 33, "department": "x"}
    )

    answer = post(http, f"{platform.api}/applications", token, body)

    problem = problem_of(answer, 422, "validation-failed")
    found = {(error["pointer"], error["code"]) for error in problem["errors"]}
    assert found == {
        ("/extra", "unknown"),
        ("/items/1/implementation_code", "unknown_item"),
        ("/items/7/key", "duplicate_item"),
        ("/items/8/key", "unknown_item"),
        ("/form/spouse_id_number", "resident_id"),
        ("/form/medical_costs", "money"),
        ("/form/favourite_colour", "unknown"),
        ("/form/household_head", "required"),
        ("/materials/parents_id_cards/mode", "not_tolerable"),
        ("/materials/birth_medical_certificate/licenses/0/identifier", "license_identifier"),
        ("/materials/delivery_record/commitment/signed_by", "signer_not_operator"),
        ("/materials/medical_invoices", "material_missing"),
    }
    assert all(error["detail"] for error in problem["errors"])
    assert (
        http.get(
            f"{platform.api}/applications/BrokenPackage1",
            headers={"authorization": f"Bearer {token}"},
        ).status_code
        == 404
    )
    assert post(http, f"{platform.api}/applications", token, body).headers["idempotent-replayed"]


def test_a_one_thing_the_client_is_not_enabled_for_is_403(
    http: httpx2.Client, platform: Platform
) -> None:
    other = get_token(http, platform, OTHER)
    url = f"{platform.api}/applications"

    first = post(http, url, other, newborn_package("NotEnabled0001"))
    again = post(http, url, other, newborn_package("NotEnabled0001"))

    problem_of(first, 403, "forbidden")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (403, "true")


def test_another_clients_application_is_404(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    assert post(
        http, f"{platform.api}/applications", token, newborn_package("Mine0000001")
    ).is_success
    other = get_token(http, platform, OTHER)
    url = f"{platform.api}/applications/Mine0000001"

    theirs = http.get(url, headers={"authorization": f"Bearer {other}"})
    mine = http.get(url, headers={"authorization": f"Bearer {token}"})

    problem_of(theirs, 404, "not-found")
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "no-store"
    assert mine.json()["application_id"] == "Mine0000001"


def test_withdrawals_keep_dependants_together(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    assert post(
        http, f"{platform.api}/applications", token, newborn_package("Withdraw0001")
    ).is_success
    url = f"{platform.api}/applications/Withdraw0001/withdrawals"
    who = newborn_package("Withdraw0001")["operator"]
    base = {"requested_by": who, "requested_at": "2026-11-26T08:51:58+08:00"}

    partial = post(http, url, token, base | {"items": ["birth_certificate"]}, key="w-1")
    whole = post(http, url, token, base | {"reason": "不办了。"}, key="w-2")
    late = post(http, url, token, base | {"reason": "再撤一次。"}, key="w-3")

    problem = problem_of(partial, 422, "not-withdrawable")
    assert problem["errors"][-1]["code"] == "dependants_not_included"
    for key in ("hukou_registration", "maternity_reimbursement", "social_security_card"):
        assert key in problem["errors"][-1]["detail"]
    assert whole.status_code == 200, whole.text
    application = whole.json()
    assert (application["state"], application["sequence"]) == ("withdrawn", 1)
    assert {(i["state"], i["sequence"]) for i in application["items"]} == {("withdrawn", 1)}
    assert application["items"][0]["withdrawal"]["channel"] == "api"
    assert application["concluded_at"] is not None
    problem_of(late, 422, "not-withdrawable")


def test_faults_answer_503_before_any_effect(
    http: httpx2.Client, platform: Platform, token: str
) -> None:
    url, body = f"{platform.api}/applications", newborn_package("Faulty0000001")
    try:
        http.post(f"{platform.control}/faults", json={"error_rate": 1.0})
        failing = post(http, url, token, body)
        fresh_token = http.post(
            f"{platform.url}/intake/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(PORTAL.client_id, PORTAL.client_secret),
        )
        http.post(f"{platform.control}/faults", json={"error_rate": 0.0, "outage": True})
        token_in_outage = http.post(
            f"{platform.url}/intake/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(PORTAL.client_id, PORTAL.client_secret),
        )
        in_outage = post(http, url, token, body)
    finally:
        http.post(f"{platform.control}/faults", json={"error_rate": 0.0, "outage": False})

    for answer in (failing, token_in_outage, in_outage):
        problem_of(answer, 503, "unavailable")
        assert answer.headers["retry-after"] == "1"
    assert fresh_token.status_code == 200  # error_rate is for /v1 only
    assert post(http, url, token, body).status_code == 201  # the key was never taken
    stats = http.get(f"{platform.control}/stats").json()
    assert stats["requests"]["503"] >= 3
    assert stats["idempotency_keys"] == len(
        [record for record in platform.store.keys.values() if record.response is not None]
    )
    assert stats["applications"] == len(platform.store.applications)


def test_the_sandbox_index_names_the_intake_api(http: httpx2.Client, platform: Platform) -> None:
    page = http.get(f"{platform.url}/")

    assert f"<code>{platform.api}</code>" in page.text
    assert f"{platform.control}/stats" in page.text
