"""The relay records a batch of intake answers in a fixed number of statements (the
applications and items locked and loaded at once, the sent rows marked in one UPDATE), and
each answer still lands on its own application by the sequence rule."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from integrations.intake.client import Accepted, IntakeApi, Outcome
from portal.applications.models import Application, OutboxMessage
from portal.relay import outbox
from portal.relay.handlers import IntakeHandler
from portal.relay.worker import RelayOptions, RelayWorker
from tests.relay.test_webhooks import ITEM, create, seen

TOPIC = "test.batch"  # its own topic: rows other tests left pending are not claimed here


class Answering(IntakeApi):
    """The platform's answer to a submission, without the platform."""

    def __init__(self) -> None:
        super().__init__("http://platform.invalid", "http://platform.invalid/token", "c", "s")

    async def write(self, path: str, body: bytes, key: str) -> Outcome:
        snapshot = {"item_key": ITEM, "state": "dispatched", "sequence": 1, "deadline": None}
        return Accepted(
            201,
            {
                "application_id": key,
                "sequence": 1,
                "state": "in_progress",
                "receipt_number": f"R-{key}",
                "items": [snapshot],
            },
        )


def what(sql: str) -> str:
    """``UPDATE outbox``, ``INSERT application_events``: the same for one row or many."""
    table = re.search(r"(?:INTO|UPDATE|FROM)\s+(\w+)", sql)
    return f"{sql.split()[0]} {table.group(1) if table else ''}"


def relay_batch(client: TestClient, app: Starlette, size: int) -> tuple[list[str], list[str]]:
    """Enqueues ``size`` answers for new applications, runs one step; returns the
    applications' public ids and how many statements the step ran."""
    public_ids = [create(client, app) for _ in range(size)]
    cipher = app.state.cipher

    async def enqueue() -> None:
        async with app.state.sessionmaker() as db:
            for public_id in public_ids:
                application = await db.scalar(
                    select(Application).where(Application.public_id == public_id)
                )
                assert application is not None
                envelope = {"path": "/applications", "body": {"application_id": public_id}}
                outbox.enqueue(db, cipher, TOPIC, public_id, envelope, application.id)
            await db.commit()

    client.portal.call(enqueue)  # type: ignore[union-attr]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(what(str(args[2])))

    engine = app.state.engine.sync_engine
    api = Answering()
    worker = RelayWorker(
        app.state.sessionmaker, cipher, {TOPIC: IntakeHandler(api)}, options=RelayOptions()
    )
    event.listen(engine, "before_cursor_execute", count)
    try:
        handled = client.portal.call(worker.step)  # type: ignore[union-attr]
    finally:
        event.remove(engine, "before_cursor_execute", count)
        client.portal.call(api.aclose)  # type: ignore[union-attr]
    assert handled == size
    return public_ids, statements


def test_a_batch_is_recorded_in_as_many_statements_as_one_answer(
    client: TestClient, app: Starlette
) -> None:
    _, one = relay_batch(client, app, 1)
    public_ids, eight = relay_batch(client, app, 8)
    if app.state.engine.dialect.name == "sqlite":
        # SQLite's driver inserts the ORM's new rows one by one: the timeline lines
        timeline = "INSERT application_events"
        assert [s for s in eight if timeline not in s] == [s for s in one if timeline not in s]
    else:
        assert eight == one
    for public_id in public_ids:
        state = seen(client, app, public_id)
        assert (state.status, state.sequence, state.receipt) == ("in_progress", 1, f"R-{public_id}")
        assert state.items == {ITEM: ("dispatched", 1)}
        assert state.events == 1  # the timeline line "relayed", once


def test_every_row_of_the_batch_is_marked_sent(client: TestClient, app: Starlette) -> None:
    public_ids, _ = relay_batch(client, app, 5)

    async def states() -> set[str]:
        async with app.state.sessionmaker() as db:
            rows = await db.scalars(
                select(OutboxMessage.state).where(OutboxMessage.idempotency_key.in_(public_ids))
            )
            return set(rows)

    assert client.portal.call(states) == {"sent"}  # type: ignore[union-attr]
