"""``POST /webhooks/intake`` through the real app and database: signatures (and their
rotation), freshness, duplicates, shuffled order by the sequence rule, and notifications."""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import httpx2
import pytest
from sqlalchemy import event, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import Person
from integrations.intake.webhooks import sign
from portal import clock
from portal.app import create_app
from portal.applications import services
from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    OutboxMessage,
    WebhookMessage,
)
from portal.notifications.models import Notification
from portal.settings import Settings

ITEM = "birth_certificate"
MOBILE = "13837310521"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_of(app: Starlette) -> str:
    secret: str = app.state.settings.intake_webhook_secrets[0]
    return secret


def item(state: str, sequence: int, public_id: str = "", key: str = ITEM) -> dict[str, Any]:
    snapshot = {"item_key": key, "state": state, "sequence": sequence, "deadline": None}
    return {**snapshot, **({"application_id": public_id} if public_id else {})}


def received(public_id: str, receipt: str) -> dict[str, Any]:
    return {
        "application_id": public_id,
        "one_thing": "newborn",
        "receipt_number": receipt,
        "sequence": 1,
        "state": "in_progress",
        "notice": None,
        "items": [item("dispatched", 1)],
    }


def post(
    client: TestClient,
    secret: str,
    kind: str,
    data: dict[str, Any],
    *,
    webhook_id: str | None = None,
    at: datetime | None = None,
    tamper: bool = False,
) -> httpx2.Response:
    body = json.dumps({"type": kind, "timestamp": "2026-11-25T10:00:00+08:00", "data": data})
    raw = body.encode()
    headers = sign(secret, webhook_id or f"msg_{secrets.token_hex(12)}", at or clock.now(), raw)
    content = raw.replace(b'"sequence": 1', b'"sequence": 9') if tamper else raw
    response: httpx2.Response = client.post(
        "/webhooks/intake",
        content=content,
        headers={**headers, "content-type": "application/json"},
    )
    return response


@dataclass
class Seen:
    """An application as the database holds it, and what was written about it."""

    status: str
    sequence: int
    receipt: str | None
    items: dict[str, tuple[str, int]]
    events: int
    notifications: int
    sms: int


def create(client: TestClient, app: Starlette) -> str:
    """A relayed newborn application with one submitted item; returns its public id."""

    async def insert() -> str:
        async with app.state.sessionmaker() as db:
            now = clock.now()
            person = Person(
                issuer="https://idp.test",
                subject=secrets.token_hex(8),
                name="李娜",
                roles=[],
                highest_level="L3",
                created_at=now,
                last_sign_in_at=now,
            )
            db.add(person)
            await db.flush()
            application = Application(
                public_id=services.new_public_id(),
                draft_public_id=services.new_public_id(),
                thing_code="newborn",
                subject_kind="person",
                subject_id=person.id,
                operator_id=person.id,
                answers={},
                values={"mobile": MOBILE},
                materials={},
                figures={},
                status="under_review",
                submitted_at=now,
                sequence=-1,
                relay_status="relayed",
            )
            db.add(application)
            await db.flush()
            db.add(
                ApplicationItem(
                    application_id=application.id,
                    item_key=ITEM,
                    department="health",
                    promised_days=1,
                    status="submitted",
                    sequence=-1,
                )
            )
            await db.commit()
            return application.public_id

    public_id: str = client.portal.call(insert)  # type: ignore[union-attr]
    return public_id


def seen(client: TestClient, app: Starlette, public_id: str) -> Seen:
    async def load() -> Seen:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            rows = await db.scalars(
                select(ApplicationItem).where(ApplicationItem.application_id == found.id)
            )

            async def count(model: Any, *where: Any) -> int:
                query = select(func.count()).select_from(model).where(*where)
                return int(await db.scalar(query) or 0)

            return Seen(
                status=found.status,
                sequence=found.sequence,
                receipt=found.receipt_number,
                items={i.item_key: (i.status, i.sequence) for i in rows},
                events=await count(ApplicationEvent, ApplicationEvent.application_id == found.id),
                notifications=await count(Notification, Notification.application_id == found.id),
                sms=await count(
                    OutboxMessage,
                    OutboxMessage.application_id == found.id,
                    OutboxMessage.topic == "notify.sms",
                ),
            )

    result: Seen = client.portal.call(load)  # type: ignore[union-attr]
    return result


def messages(client: TestClient, app: Starlette, webhook_id: str) -> int:
    async def load() -> int:
        async with app.state.sessionmaker() as db:
            query = select(func.count()).select_from(WebhookMessage)
            return int(await db.scalar(query.where(WebhookMessage.webhook_id == webhook_id)) or 0)

    result: int = client.portal.call(load)  # type: ignore[union-attr]
    return result


UNTOUCHED = ("under_review", -1, None, {ITEM: ("submitted", -1)}, 0, 0, 0)


def untouched(state: Seen) -> bool:
    fields = (state.status, state.sequence, state.receipt, state.items)
    return (*fields, state.events, state.notifications, state.sms) == UNTOUCHED


def receipt() -> str:
    return f"SJ-410700-20261125-{secrets.token_hex(4)}"


def test_a_signed_received_event_updates_the_application_and_its_items(
    client: TestClient, app: Starlette
) -> None:
    public_id, number = create(client, app), receipt()
    response = post(client, secret_of(app), "application.received", received(public_id, number))
    assert response.status_code == 204, response.text
    state = seen(client, app, public_id)
    assert (state.status, state.sequence, state.receipt) == ("in_progress", 1, number)
    assert state.items == {ITEM: ("dispatched", 1)}
    assert state.events == 1


@pytest.mark.parametrize("forgery", ["wrong_secret", "altered_body"])
def test_a_forged_event_is_refused_with_401(
    client: TestClient, app: Starlette, forgery: str
) -> None:
    public_id = create(client, app)
    secret = new_secret() if forgery == "wrong_secret" else secret_of(app)
    data = received(public_id, receipt())
    response = post(client, secret, "application.received", data, tamper=forgery != "wrong_secret")
    assert response.status_code == 401
    assert untouched(seen(client, app, public_id))


def test_an_event_without_signature_headers_is_refused(client: TestClient, app: Starlette) -> None:
    public_id = create(client, app)
    body = json.dumps({"type": "application.received", "data": received(public_id, receipt())})
    response = client.post("/webhooks/intake", content=body.encode())
    assert response.status_code in (400, 401)
    assert untouched(seen(client, app, public_id))


@pytest.mark.parametrize("minutes", [-6, 6])
def test_an_event_six_minutes_off_the_clock_is_refused_with_400(
    client: TestClient, app: Starlette, minutes: int
) -> None:
    public_id = create(client, app)
    at = clock.now() + timedelta(minutes=minutes)
    data = received(public_id, receipt())
    response = post(client, secret_of(app), "application.received", data, at=at)
    assert response.status_code == 400
    assert untouched(seen(client, app, public_id))


@pytest.mark.parametrize(
    "where", ["application", "item", "negative", "not_a_number", "true"], ids=str
)
def test_a_sequence_the_database_cannot_hold_is_refused_with_400(
    client: TestClient, app: Starlette, where: str
) -> None:
    public_id = create(client, app)
    data = received(public_id, receipt())
    wrong: Any = {"negative": -1, "not_a_number": "7", "true": True}.get(where, 2**40)
    if where == "item":
        data["items"][0]["sequence"] = wrong
    else:
        data["sequence"] = wrong
    response = post(client, secret_of(app), "application.received", data)
    assert response.status_code == 400, response.text
    assert untouched(seen(client, app, public_id))


def test_a_replayed_webhook_id_is_answered_but_applied_once(
    client: TestClient, app: Starlette
) -> None:
    public_id, webhook_id = create(client, app), f"msg_{secrets.token_hex(12)}"
    data = received(public_id, receipt())
    for _ in range(2):
        answer = post(client, secret_of(app), "application.received", data, webhook_id=webhook_id)
        assert answer.status_code == 204
    state = seen(client, app, public_id)
    assert (state.events, state.notifications, messages(client, app, webhook_id)) == (1, 1, 1)


def lifecycle(public_id: str) -> list[tuple[str, dict[str, Any]]]:
    """One item from dispatched to delivered, and the application received and concluded."""
    concluded = {"application_id": public_id, "sequence": 2, "state": "concluded", "items": []}
    return [
        ("application.received", received(public_id, receipt())),
        ("item.accepted", item("accepted", 2, public_id)),
        ("item.approved", item("approved", 3, public_id)),
        ("item.result_issued", item("result_issued", 4, public_id)),
        ("item.delivered", item("delivered", 5, public_id)),
        ("application.concluded", concluded),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_shuffled_events_converge_and_never_regress(
    client: TestClient, app: Starlette, seed: int
) -> None:
    public_id = create(client, app)
    events = lifecycle(public_id)
    random.Random(seed).shuffle(events)
    before = (-1, -1)
    for kind, data in events:
        assert post(client, secret_of(app), kind, data).status_code == 204
        state = seen(client, app, public_id)
        now = (state.sequence, state.items[ITEM][1])
        assert now[0] >= before[0] and now[1] >= before[1], (kind, before, now)
        before = now
    state = seen(client, app, public_id)
    assert (state.status, state.sequence) == ("concluded", 2)
    assert state.items == {ITEM: ("delivered", 5)}


def test_an_older_item_event_after_a_newer_one_changes_nothing(
    client: TestClient, app: Starlette
) -> None:
    public_id = create(client, app)
    newer, older = item("delivered", 5, public_id), item("accepted", 2, public_id)
    assert post(client, secret_of(app), "item.delivered", newer).status_code == 204
    assert post(client, secret_of(app), "item.accepted", older).status_code == 204
    assert seen(client, app, public_id).items == {ITEM: ("delivered", 5)}


@pytest.fixture
def rotated(settings: Settings) -> Iterator[tuple[TestClient, Starlette, tuple[str, str]]]:
    """An app that accepts two secrets, as during a key rotation."""
    pair = (new_secret(), new_secret())
    app = create_app(replace(settings, intake_webhook_secret=" ".join(pair)))
    with TestClient(app, base_url="http://testserver") as client:
        yield client, app, pair


def test_either_secret_is_accepted_during_a_rotation(
    rotated: tuple[TestClient, Starlette, tuple[str, str]],
) -> None:
    client, app, pair = rotated
    for secret in pair:
        public_id = create(client, app)
        data = received(public_id, receipt())
        assert post(client, secret, "application.received", data).status_code == 204
        assert seen(client, app, public_id).status == "in_progress"


def test_one_matching_signature_among_several_is_enough(client: TestClient, app: Starlette) -> None:
    public_id = create(client, app)
    body = json.dumps({"type": "application.received", "data": received(public_id, receipt())})
    webhook_id, at = f"msg_{secrets.token_hex(12)}", clock.now()
    forged = sign(new_secret(), webhook_id, at, body.encode())
    headers = sign(secret_of(app), webhook_id, at, body.encode())
    headers["webhook-signature"] = f"{forged['webhook-signature']} {headers['webhook-signature']}"
    response = client.post("/webhooks/intake", content=body.encode(), headers=headers)
    assert response.status_code == 204
    assert seen(client, app, public_id).status == "in_progress"


def test_an_unknown_type_or_application_is_answered_and_ignored(
    client: TestClient, app: Starlette
) -> None:
    public_id = create(client, app)
    unknown_type = received(public_id, receipt())
    assert post(client, secret_of(app), "payment.refunded", unknown_type).status_code == 204
    elsewhere = received("no-such-application", receipt())
    assert post(client, secret_of(app), "application.received", elsewhere).status_code == 204
    assert untouched(seen(client, app, public_id))


def test_a_received_event_queues_a_text_message_and_a_stale_one_does_not(
    client: TestClient, app: Starlette
) -> None:
    public_id = create(client, app)
    data = received(public_id, receipt())
    assert post(client, secret_of(app), "application.received", data).status_code == 204
    state = seen(client, app, public_id)
    assert (state.notifications, state.sms) == (1, 1)
    old = clock.now() - timedelta(minutes=6)
    assert post(client, secret_of(app), "application.received", data, at=old).status_code == 400
    assert post(client, secret_of(app), "application.received", data).status_code == 204
    state = seen(client, app, public_id)
    assert (state.notifications, state.sms) == (1, 1)


def test_a_received_event_after_later_news_still_texts_the_receipt_number_once(
    client: TestClient, app: Starlette
) -> None:
    """Webhooks come in any order: when a later state arrives first, "received" is stale but
    its text carries the receipt number no other message gives."""
    public_id = create(client, app)
    later = received(public_id, receipt()) | {"sequence": 2, "items": [item("accepted", 2)]}
    assert post(client, secret_of(app), "application.updated", later).status_code == 204
    state = seen(client, app, public_id)
    assert (state.sequence, state.notifications, state.sms) == (2, 0, 0)
    data = received(public_id, later["receipt_number"])
    assert post(client, secret_of(app), "application.received", data).status_code == 204
    state = seen(client, app, public_id)
    assert (state.sequence, state.events, state.notifications, state.sms) == (2, 2, 1, 1)
    assert post(client, secret_of(app), "application.received", data).status_code == 204
    assert (seen(client, app, public_id).notifications, seen(client, app, public_id).sms) == (1, 1)


def test_an_event_with_a_text_message_is_applied_in_few_statements(
    client: TestClient, app: Starlette
) -> None:
    public_id = create(client, app)
    statements: list[str] = []

    def count(*args: Any) -> None:
        sql = str(args[2])
        table = re.search(r"(?:INTO|UPDATE|FROM)\s+(\w+)", sql)
        statements.append(f"{sql.split()[0]} {table.group(1) if table else ''}")

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        data = received(public_id, receipt())
        assert post(client, secret_of(app), "application.received", data).status_code == 204
    finally:
        event.remove(engine, "before_cursor_execute", count)
    state = seen(client, app, public_id)
    assert (state.events, state.notifications, state.sms) == (1, 1, 1)
    # The message id recorded (a duplicate stops here), the application locked, its items,
    # the person with their choices and openid at once, then the writes.
    assert sorted(statements) == sorted(
        [
            "INSERT webhook_messages",
            "SELECT applications",
            "SELECT application_items",
            "SELECT people",
            "INSERT notifications",
            "INSERT application_events",
            "UPDATE applications",
            "UPDATE application_items",
            "INSERT outbox",
        ]
    ), statements
