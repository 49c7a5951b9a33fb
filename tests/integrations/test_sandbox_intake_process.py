"""The sandbox intake platform at work, over real HTTP both ways: the sandbox on one loopback
port, a small receiver on another that serves the uploaded files and takes the webhooks,
verifying every signature (integrations.intake.webhooks) with the new secret of a rotation.

One working day lasts 0.02 s here. Tests wait for what they expect with a deadline and
never assert on the passing of time; they apply events by the contract's sequence rule
(§7.6) and compare the result with ``GET``.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from integrations.intake.webhooks import InvalidWebhook, verify
from integrations.sandbox import IntakeClient
from integrations.sandbox.intake_models import ApplicationRecord
from integrations.sandbox.intake_results import license_request
from integrations.sandbox.license_issue import license_from_request
from integrations.sandbox.license_store import CHINA, LicenseStore
from portal.catalog.loader import load_catalog
from tests.integrations.helpers import free_port, mounted, serve
from tests.integrations.test_sandbox_intake_api import (
    INVOICES,
    PHOTO,
    Platform,
    get_token,
    newborn_package,
    person,
    post,
    start_platform,
    upload,
)

OLD = "whsec_" + base64.b64encode(os.urandom(32)).decode()
NEW = "whsec_" + base64.b64encode(os.urandom(32)).decode()
SPEED = 0.02
WAIT = 30.0


@dataclass(frozen=True)
class Event:
    message_id: str
    type: str
    data: dict[str, Any]
    signatures: str


@dataclass
class Receiver:
    """The client's side: files to serve, and every verified webhook as it came."""

    files: dict[str, bytes] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    refused: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        try:
            envelope = verify([NEW], body, request.headers)
        except InvalidWebhook:
            self.refused += 1
            return Response(status_code=401)
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=500)
            event = Event(
                request.headers["webhook-id"],
                envelope["type"],
                envelope["data"],
                request.headers["webhook-signature"],
            )
            self.events.append(event)
        return Response(status_code=204)

    async def file(self, request: Request) -> Response:
        content = self.files.get(request.path_params["name"])
        return Response(content, 200) if content is not None else Response(status_code=404)

    def of(self, application_id: str) -> list[Event]:
        """This application's events, each message once."""
        with self.lock:
            mine = [e for e in self.events if e.data["application_id"] == application_id]
        unique: dict[str, Event] = {}
        for event in mine:
            unique.setdefault(event.message_id, event)
        return list(unique.values())


@dataclass(frozen=True)
class World:
    platform: Platform
    receiver: Receiver
    files_url: str
    token: str

    @property
    def licenses(self) -> LicenseStore:
        store: LicenseStore = mounted(self.platform.app, "/licenses").state.store
        return store


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    receiver = Receiver(files={"photo.jpg": PHOTO, "invoices.pdf": INVOICES})
    port = free_port()
    app = Starlette(
        routes=[
            Route("/hooks", receiver.hook, methods=["POST"]),
            Route("/files/{name}", receiver.file),
        ]
    )
    client = IntakeClient("portal", "portal-secret", f"http://127.0.0.1:{port}/hooks", (OLD, NEW))
    with serve(app, port):
        for platform in start_platform(load_catalog(only=("newborn",)), SPEED, [client]):
            with httpx2.Client(timeout=10) as http:
                token = get_token(http, platform, client)
            yield World(platform, receiver, f"http://127.0.0.1:{port}/files", token)


def wait_for(what: str, check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def has(world: World, application_id: str, event_type: str) -> Callable[[], bool]:
    return lambda: any(e.type == event_type for e in world.receiver.of(application_id))


def submit(http: httpx2.Client, world: World, body: dict[str, Any]) -> dict[str, Any]:
    answer = post(http, f"{world.platform.api}/applications", world.token, body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def read(http: httpx2.Client, world: World, application_id: str) -> dict[str, Any]:
    answer = http.get(
        f"{world.platform.api}/applications/{application_id}",
        headers={"authorization": f"Bearer {world.token}"},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def item_of(snapshot: dict[str, Any]) -> dict[str, Any]:
    envelope = ("application_id", "one_thing", "receipt_number", "occurred_at")
    return {key: value for key, value in snapshot.items() if key not in envelope}


def fold(events: list[Event]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The application and its items as a receiver builds them by §7.6, after checking
    that every stream went up by exactly one per event."""
    application: dict[str, Any] = {"sequence": 0}
    items: dict[str, dict[str, Any]] = {}
    streams: dict[str, list[int]] = {"": []}
    for event in events:
        snapshots = [event.data] if event.type.startswith("item.") else event.data["items"]
        if event.type.startswith("application."):
            streams[""].append(event.data["sequence"])
            if event.data["sequence"] > application["sequence"]:
                application = event.data
        for snapshot in snapshots:
            streams.setdefault(snapshot["item_key"], []).append(snapshot["sequence"])
            held = items.get(snapshot["item_key"], {"sequence": 0})
            if snapshot["sequence"] > held["sequence"]:
                items[snapshot["item_key"]] = item_of(snapshot)
    for stream, sequences in streams.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), stream or "application"
    return application, items


def converged(http: httpx2.Client, world: World, application_id: str) -> dict[str, Any]:
    """GET agrees with what the events built; the application as GET shows it."""
    now = read(http, world, application_id)
    application, items = fold(world.receiver.of(application_id))
    assert application["sequence"] == now["sequence"]
    assert application["state"] == now["state"]
    changed = {item["item_key"]: item for item in now["items"] if item["sequence"] > 0}
    assert items == changed  # an item at 0 is as the 201 showed it: no event yet
    return now


def concluded(http: httpx2.Client, world: World, application_id: str) -> dict[str, Any]:
    wait_for("application.concluded", has(world, application_id, "application.concluded"))
    wait_for("every webhook", lambda: world.platform.store.outbox.stats()["pending"] == 0)
    return converged(http, world, application_id)


def events(world: World, application_id: str, event_type: str) -> list[dict[str, Any]]:
    return [e.data for e in world.receiver.of(application_id) if e.type == event_type]


def by_key(application: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["item_key"]: item for item in application["items"]}


def test_a_newborn_package_goes_all_the_way(http: httpx2.Client, world: World) -> None:
    body = newborn_package("NewbornAll0001", world.files_url)

    submit(http, world, body)
    final = concluded(http, world, "NewbornAll0001")

    assert (final["state"], final["sequence"]) == ("concluded", 2)
    assert final["receipt_number"].startswith("SJ-410700-")
    items = by_key(final)
    assert {(i["state"], i["sequence"]) for i in items.values()} == {("delivered", 5)}
    received = events(world, "NewbornAll0001", "application.received")[0]
    assert received["notice"]["kind"] == "tolerated"
    assert [m["key"] for m in received["notice"]["materials"]] == ["delivery_record"]
    assert received["notice"]["deadline"]["starts_on"] == "acceptance"
    owed = items["maternity_reimbursement"]["owed_materials"]
    assert owed[0]["material_key"] == "delivery_record" and owed[0]["due_at"] is not None
    assert {i["deadline"]["unit"] for i in received["items"]} == {"working_days"}

    hukou = items["hukou_registration"]
    license = hukou["result"]["license"]
    assert (license["type"], license["holder"]["name"]) == ("household_register", "张语桐")
    issued = world.licenses.by_identifier[license["identifier"]]
    assert issued.holder.code is None
    assert [(p.role, p.name) for p in issued.parties] == [("guardian", "张伟")]
    assert issued.data["household_head"] == "张伟" and issued.data["relationship"] == "子女"
    assert hukou["delivery"]["method"] == "mail" and hukou["delivery"]["carrier"] == "EMS"
    assert items["vaccination_certificate"]["delivery"]["method"] == "pickup"
    payment = items["maternity_reimbursement"]["result"]["payment"]
    assert (payment["amount"], payment["account_last4"]) == ("6842.50", "3527")
    assert items["maternity_reimbursement"]["delivery"]["method"] == "electronic"
    assert items["resident_medical_insurance"]["result"]["kind"] == "record"
    birth = world.licenses.by_identifier[
        items["birth_certificate"]["result"]["license"]["identifier"]
    ]
    assert birth.data["child_sex"] == "女" and birth.data["father_name"] == "张伟"

    issued_at = {
        e["item_key"]: e["occurred_at"]
        for e in events(world, "NewbornAll0001", "item.result_issued")
    }
    approved = {
        e["item_key"]: e["occurred_at"] for e in events(world, "NewbornAll0001", "item.approved")
    }
    assert approved["hukou_registration"] >= issued_at["birth_certificate"]
    assert approved["social_security_card"] >= issued_at["hukou_registration"]
    assert len(world.receiver.of("NewbornAll0001")[0].signatures.split()) == 2  # old and new


def test_the_counter_asks_once_and_takes_the_supplement(http: httpx2.Client, world: World) -> None:
    items = ("birth_certificate", "vaccination_certificate")
    body = newborn_package("Supplement0001", world.files_url, "test-user", items)
    url = f"{world.platform.api}/applications/Supplement0001/supplements"
    submit(http, world, body)
    wait_for("the notice", has(world, "Supplement0001", "application.supplement_requested"))

    waiting = converged(http, world, "Supplement0001")
    notice = waiting["notices"][0]
    assert (waiting["state"], waiting["sequence"]) == ("supplement_requested", 1)
    assert (notice["kind"], notice["stage"], notice["status"]) == (
        "supplement",
        "intake_review",
        "open",
    )
    assert [f["key"] for f in notice["fields"]] == ["child_name"]
    assert [m["key"] for m in notice["materials"]] == ["parents_id_cards"]
    assert "补正" in notice["summary"] and notice["fields"][0]["reason"]["message"]
    assert waiting["deadline"] == notice["deadline"]
    assert (notice["deadline"]["party"], notice["deadline"]["amount"]) == ("applicant", 5)
    answer = {
        "notice_id": notice["notice_id"],
        "form": {"child_name": "张语桐"},
        "submitted_by": body["operator"],
        "submitted_at": "2026-11-25T12:30:40+08:00",
    }
    photo = upload(world.files_url, "photo.jpg", PHOTO, "image/jpeg")

    partial = post(http, url, world.token, answer, key="s-1")
    extra = post(
        http,
        url,
        world.token,
        answer | {"materials": {"parents_id_cards": photo, "child_photo": photo}},
        key="s-2",
    )
    whole = post(
        http, url, world.token, answer | {"materials": {"parents_id_cards": photo}}, key="s-3"
    )

    assert partial.status_code == 422
    assert partial.json()["errors"] == [
        {
            "pointer": "/materials/parents_id_cards",
            "code": "not_answered",
            "detail": "The notice asks for material parents_id_cards.",
        }
    ]
    assert {(e["pointer"], e["code"]) for e in extra.json()["errors"]} == {
        ("/materials/child_photo", "not_requested")
    }
    assert whole.status_code == 200, whole.text
    again = whole.json()
    assert (again["state"], again["sequence"]) == ("under_review", 2)
    assert again["deadline"]["unit"] == "working_hours"
    assert again["notices"][0]["status"] == "answered"
    assert again["notices"][0]["fields"][0]["answered_at"] is not None

    final = concluded(http, world, "Supplement0001")
    assert (final["state"], final["sequence"]) == ("concluded", 4)
    late = post(
        http, url, world.token, answer | {"materials": {"parents_id_cards": photo}}, key="s-4"
    )
    assert late.status_code == 422
    assert (late.json()["notice_id"], late.json()["notice_status"]) == (
        notice["notice_id"],
        "answered",
    )


def test_an_unreachable_file_is_a_notice_not_an_error(http: httpx2.Client, world: World) -> None:
    items = ("birth_certificate", "social_security_card")
    body = newborn_package("BrokenFile0001", world.files_url, items=items)
    body["materials"]["child_photo"]["files"][0]["url"] = f"{world.files_url}/missing.jpg"

    submit(http, world, body)
    wait_for("the notice", has(world, "BrokenFile0001", "application.supplement_requested"))

    notice = events(world, "BrokenFile0001", "application.supplement_requested")[0]["notice"]
    assert [(m["key"], m["reason"]["code"]) for m in notice["materials"]] == [
        ("child_photo", "file_unavailable")
    ]
    assert notice["items"] == ["social_security_card"]


def test_a_refused_item_ends_alone(http: httpx2.Client, world: World) -> None:
    submit(http, world, newborn_package("Refused000001", world.files_url, "zhou-jie"))

    items = by_key(concluded(http, world, "Refused000001"))

    refused = items.pop("vaccination_certificate")  # the first item nothing else requires
    assert refused["state"] == "refused"
    assert refused["decision"]["reasons"][0]["code"] == "not_eligible"
    assert refused["decision"]["reasons"][0]["basis"]
    assert refused["acceptance"]["case_number"]
    assert {item["state"] for item in items.values()} == {"delivered"}


def test_an_item_not_accepted_ends_its_dependants(http: httpx2.Client, world: World) -> None:
    li_na = person("li-na").id_number
    scenario = {"id_number": li_na, "scenario": "not_accept_item"}
    assert http.post(f"{world.platform.control}/scenarios", json=scenario).status_code == 200
    submit(http, world, newborn_package("NotAccepted01", world.files_url, "li-na"))

    final = concluded(http, world, "NotAccepted01")

    items = by_key(final)
    assert items["birth_certificate"]["state"] == "not_accepted"
    for key in (
        "hukou_registration",
        "maternity_reimbursement",
        "social_security_card",
        "resident_medical_insurance",
    ):
        ruling = items[key]["decision"] or items[key]["acceptance"]
        assert items[key]["state"] in ("not_accepted", "refused"), key
        assert ruling["reasons"][0]["code"] == "prerequisite_not_met"
    assert items["vaccination_certificate"]["state"] == "delivered"
    assert final["notices"][0]["status"] == "cancelled"  # the delivery record is moot


def test_a_department_asks_and_unified_delivery_waits(http: httpx2.Client, world: World) -> None:
    wang = person("wang-jianguo").id_number
    scenario = {"id_number": wang, "scenario": "supplement_item"}
    assert http.post(f"{world.platform.control}/scenarios", json=scenario).status_code == 200
    body = newborn_package(
        "Unified000001", world.files_url, "wang-jianguo", delivery_mode="unified"
    )
    submit(http, world, body)
    wait_for(
        "the notice",
        lambda: len(events(world, "Unified000001", "application.supplement_requested")) == 1,
    )

    asked = events(world, "Unified000001", "application.supplement_requested")[0]
    notice = asked["notice"]
    assert (notice["stage"], notice["items"]) == ("acceptance_review", ["birth_certificate"])
    assert [(i["item_key"], i["state"], i["sequence"]) for i in asked["items"]] == [
        ("birth_certificate", "supplement_requested", 2)
    ]
    answer = {
        "notice_id": notice["notice_id"],
        "form": {"child_name": "张语桐"},
        "materials": {"parents_id_cards": body["materials"]["parents_id_cards"]},
        "submitted_by": body["operator"],
        "submitted_at": "2026-11-25T12:30:40+08:00",
    }
    url = f"{world.platform.api}/applications/Unified000001/supplements"
    answered = post(http, url, world.token, answer, key="u-1")
    assert answered.status_code == 200, answered.text
    assert by_key(answered.json())["birth_certificate"]["state"] == "dispatched"

    items = by_key(concluded(http, world, "Unified000001"))
    parcels = {
        i["delivery"]["tracking_number"]
        for i in items.values()
        if i["delivery"]["method"] == "mail"
    }
    assert len(parcels) == 1  # one parcel
    assert items["birth_certificate"]["sequence"] == 7  # asked, answered, then the usual five


def test_owed_material_and_withdrawal_while_items_go_on(http: httpx2.Client, world: World) -> None:
    speed, body = (
        f"{world.platform.control}/speed",
        newborn_package("Ongoing000001", world.files_url),
    )
    application = f"{world.platform.api}/applications/Ongoing000001"
    http.post(speed, json={"seconds_per_working_day": 20})  # slow enough to act in between
    try:
        submit(http, world, body)
        wait_for("the receipt", has(world, "Ongoing000001", "application.received"))
        notice = events(world, "Ongoing000001", "application.received")[0]["notice"]
        owed = {
            "notice_id": notice["notice_id"],
            "materials": {
                "delivery_record": upload(
                    world.files_url, "invoices.pdf", INVOICES, "application/pdf"
                )
            },
            "submitted_by": body["operator"],
            "submitted_at": "2026-11-26T08:30:00+08:00",
        }
        supplied = post(http, f"{application}/supplements", world.token, owed, key="ow-1")
        withdrawal = {
            "items": ["resident_medical_insurance"],
            "reason": "改为通过税务渠道自行办理孩子的居民医保参保缴费。",
            "requested_by": body["operator"],
            "requested_at": "2026-11-26T08:51:58+08:00",
        }
        withdrawn = post(http, f"{application}/withdrawals", world.token, withdrawal, key="wd-1")
    finally:
        http.post(speed, json={"seconds_per_working_day": SPEED})

    assert supplied.status_code == 200, supplied.text
    assert supplied.json()["notices"][0]["status"] == "answered"
    maternity = by_key(supplied.json())["maternity_reimbursement"]
    assert maternity["owed_materials"][0]["received_at"] is not None
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["state"], withdrawn.json()["sequence"]) == ("in_progress", 3)
    final = concluded(http, world, "Ongoing000001")
    announced = events(world, "Ongoing000001", "application.withdrawn")[0]
    assert (announced["sequence"], announced["withdrawal"]["scope"]) == (3, "items")
    assert [i["item_key"] for i in announced["items"]] == ["resident_medical_insurance"]
    items = by_key(final)
    insurance = items["resident_medical_insurance"]
    assert (insurance["state"], insurance["sequence"]) == ("withdrawn", 2)
    assert insurance["withdrawal"]["channel"] == "api"
    assert items["maternity_reimbursement"]["sequence"] == 6  # the usual five and the owed one
    assert final["sequence"] == 4 and items["social_security_card"]["state"] == "delivered"


def test_an_unanswered_notice_closes_the_application(http: httpx2.Client, world: World) -> None:
    items = ("birth_certificate", "vaccination_certificate")
    submit(http, world, newborn_package("Closed0000001", world.files_url, "test-user", items))
    wait_for("the notice", has(world, "Closed0000001", "application.supplement_requested"))
    notice_id = read(http, world, "Closed0000001")["notices"][0]["notice_id"]

    expired = http.post(f"{world.platform.control}/notices/{notice_id}/expire")
    wait_for("application.closed", has(world, "Closed0000001", "application.closed"))

    assert expired.status_code == 200
    final = converged(http, world, "Closed0000001")
    assert (final["state"], final["sequence"]) == ("closed", 2)
    assert {(i["state"], i["sequence"]) for i in final["items"]} == {("closed", 1)}
    closed = events(world, "Closed0000001", "application.closed")[0]
    assert closed["closure"]["code"] == "supplement_overdue"
    assert closed["notice"]["status"] == "expired"


def test_every_license_result_of_the_catalog_fits_the_library() -> None:
    """Each item whose result is an e-license makes a request the library accepts, for a
    person's one-thing and an enterprise's alike, whatever the form holds."""
    catalog, library = load_catalog(), LicenseStore()
    person_subject = {"kind": "person", "name": "张伟", "id_number": "410711199203140316"}
    company = {"kind": "enterprise", "name": "新乡市牧野区好味道餐饮有限公司"}
    company["uscc"] = "91410700MA45RT3K8A"
    for thing in catalog.things.values():
        subject = person_subject if thing.audience == "person" else company
        request = {"application_id": "Catalog00001", "form": {}, "materials": {}}
        request |= {"subject": subject, "submitted_at": "", "delivery": {}}
        application = ApplicationRecord("portal", thing, request, {}, datetime.now(CHINA), None)
        for item in thing.items:
            if item.result.license_type is None:
                continue
            body = license_request(application, item, catalog)
            library.add(license_from_request(body, library))  # raises when it does not fit


def test_webhooks_survive_failures_disorder_and_duplicates(
    http: httpx2.Client, world: World
) -> None:
    control = world.platform.control
    before = http.get(f"{control}/stats").json()["webhooks"]
    world.receiver.fail_next = 3
    http.post(f"{control}/webhooks", json={"shuffle": True, "duplicate_rate": 1.0})
    try:
        submit(http, world, newborn_package("Disorder00001", world.files_url))
        concluded(http, world, "Disorder00001")
    finally:
        http.post(f"{control}/webhooks", json={"shuffle": False, "duplicate_rate": 0.0})

    after = http.get(f"{control}/stats").json()["webhooks"]
    assert after["failed_attempts"] - before["failed_attempts"] >= 3
    assert after["pending"] == 0
    with world.receiver.lock:
        mine = [
            e.message_id
            for e in world.receiver.events
            if e.data["application_id"] == "Disorder00001"
        ]
    assert len(mine) > len(set(mine))  # duplicates came, and were harmless
    assert world.receiver.refused == 0
