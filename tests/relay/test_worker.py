"""The relay worker against the real outbox table, with handlers that answer as told: the
lease, retries with backoff, permanent failures, the breaker and the backlog."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.crypto import PersonalDataCipher
from integrations.intake.client import Accepted, Outcome, Permanent, Transient
from portal import clock
from portal.applications.models import OutboxMessage
from portal.db import make_engine, make_sessionmaker
from portal.relay import outbox
from portal.relay.breaker import Breaker
from portal.relay.worker import RelayOptions, RelayWorker

CIPHER = PersonalDataCipher(base64.b64encode(b"r" * 32).decode())


class Scripted:
    """Answers from a script per key; records every delivery."""

    target = "fake"

    def __init__(self, script: dict[str, list[Outcome]]) -> None:
        self.script = script
        self.delivered: list[str] = []
        self.recorded: list[tuple[str, str]] = []

    async def deliver(self, message: outbox.Claimed) -> Outcome:
        self.delivered.append(message.key)
        answers = self.script.get(message.key, [])
        return answers.pop(0) if answers else Accepted(200, {})

    async def record(self, db: AsyncSession, message: outbox.Claimed, outcome: Outcome) -> None:
        self.recorded.append((message.key, type(outcome).__name__))


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.fixture
def sessionmaker(database_url: str) -> async_sessionmaker[AsyncSession]:
    async def clean() -> None:
        engine = make_engine(database_url, 0)
        async with make_sessionmaker(engine)() as db:
            await db.execute(delete(OutboxMessage).where(OutboxMessage.topic == "test.fake"))
            await db.commit()
        await engine.dispose()

    run(clean())
    return make_sessionmaker(make_engine(database_url, 0))


async def _enqueue(sessionmaker: async_sessionmaker[AsyncSession], *keys: str) -> None:
    async with sessionmaker() as db:
        for key in keys:
            outbox.enqueue(db, CIPHER, "test.fake", key, {"path": "/x", "body": {"id": key}})
        await db.commit()


async def _rows(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, OutboxMessage]:
    async with sessionmaker() as db:
        rows = await db.execute(select(OutboxMessage).where(OutboxMessage.topic == "test.fake"))
        return {row.idempotency_key: row for row in rows.scalars()}


def _worker(sessionmaker: async_sessionmaker[AsyncSession], handler: Scripted) -> RelayWorker:
    options = RelayOptions(batch=10, max_backoff=0.01, idle_wait=0.01)
    return RelayWorker(sessionmaker, CIPHER, {"test.fake": handler}, options=options)


def test_bodies_are_sealed_at_rest_and_opened_for_the_handler(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        async with sessionmaker() as db:
            outbox.enqueue(
                db, CIPHER, "test.fake", "sealed", {"body": {"id": "410711199203140316"}}
            )
            await db.commit()
        row = (await _rows(sessionmaker))["sealed"]
        assert b"410711199203140316" not in row.body
        async with sessionmaker() as db:
            claimed = await outbox.claim(db, CIPHER, ["test.fake"], 10, timedelta(seconds=60))
        assert claimed[0].envelope == {"body": {"id": "410711199203140316"}}

    run(scenario())


def test_a_claimed_row_is_not_claimed_again_until_its_lease_ends(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        await _enqueue(sessionmaker, "leased")
        async with sessionmaker() as db:
            first = await outbox.claim(db, CIPHER, ["test.fake"], 10, timedelta(milliseconds=300))
        async with sessionmaker() as db:
            second = await outbox.claim(db, CIPHER, ["test.fake"], 10, timedelta(seconds=60))
        assert [c.key for c in first] == ["leased"] and second == []
        await asyncio.sleep(0.4)  # the worker "died": its lease runs out
        async with sessionmaker() as db:
            third = await outbox.claim(db, CIPHER, ["test.fake"], 10, timedelta(seconds=60))
        assert [c.key for c in third] == ["leased"] and third[0].attempts == 2

    run(scenario())


def test_transient_failures_retry_until_sent_and_permanent_ones_stop(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    handler = Scripted(
        {
            "flaky": [Transient("HTTP 503"), Transient("timeout")],
            "broken": [Permanent(422, "HTTP 422 validation-failed")],
        }
    )

    async def scenario() -> None:
        await _enqueue(sessionmaker, "flaky", "broken", "fine")
        worker = _worker(sessionmaker, handler)
        for _ in range(50):
            await worker.step()
            rows = await _rows(sessionmaker)
            if all(r.state != "pending" for r in rows.values()):
                break
            await asyncio.sleep(0.02)
        rows = await _rows(sessionmaker)
        assert rows["flaky"].state == "sent" and rows["flaky"].attempts == 3
        assert rows["broken"].state == "failed" and "validation-failed" in rows["broken"].last_error
        assert rows["fine"].state == "sent" and rows["fine"].attempts == 1
        assert ("broken", "Permanent") in handler.recorded

    run(scenario())


def test_backoff_has_full_jitter_under_the_cap_and_honours_retry_after() -> None:
    worker = RelayWorker(None, CIPHER, {}, options=RelayOptions(max_backoff=8.0))  # type: ignore[arg-type]
    message = outbox.Claimed(1, "t", "k", None, 10, clock.now(), {})
    waits = [worker.backoff(message, Transient("x")).total_seconds() for _ in range(200)]
    assert all(0 <= w <= 8.0 for w in waits) and max(waits) - min(waits) > 1
    assert worker.backoff(message, Transient("x", retry_after=30)).total_seconds() >= 30


def test_the_breaker_opens_after_failures_in_a_row_and_closes_on_success() -> None:
    now = [0.0]
    breaker = Breaker(threshold=3, base_cooldown=2.0, clock=lambda: now[0])
    for _ in range(3):
        assert breaker.allows()
        breaker.failure()
    assert breaker.state == "open" and not breaker.allows()
    now[0] = 2.5
    assert breaker.state == "half_open" and breaker.allows()
    breaker.failure()  # the trial failed: open again, for twice as long
    now[0] = 5.0
    assert not breaker.allows()
    now[0] = 7.0
    assert breaker.allows() and breaker.success() and breaker.state == "closed"


def test_rows_wait_while_the_breaker_is_open_then_go_at_once(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    handler = Scripted({f"down{i}": [Transient("connection: ConnectError")] for i in range(6)})

    async def scenario() -> None:
        await _enqueue(sessionmaker, *(f"down{i}" for i in range(6)))
        worker = _worker(sessionmaker, handler)
        worker.breakers["fake"] = Breaker(threshold=5, base_cooldown=0.2)
        await worker.step()
        assert worker.breakers["fake"].state == "open"
        delivered = len(handler.delivered)
        await worker.step()  # open: nothing is even claimed
        assert len(handler.delivered) == delivered
        await asyncio.sleep(0.25)
        for _ in range(20):
            await worker.step()
            await asyncio.sleep(0.02)
        rows = await _rows(sessionmaker)
        assert all(r.state == "sent" for r in rows.values())

    run(scenario())


def test_a_key_in_flight_is_retried_but_is_no_failure_of_the_platform(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    busy = Transient("HTTP 409", in_flight=True)
    handler = Scripted({f"slow{i}": [busy, busy] for i in range(6)})

    async def scenario() -> None:
        await _enqueue(sessionmaker, *(f"slow{i}" for i in range(6)))
        worker = _worker(sessionmaker, handler)
        breaker = worker.breakers["fake"] = Breaker(threshold=5, base_cooldown=30.0)
        await worker.step()  # six 409s: more than the threshold, yet the platform answered
        assert breaker.state == "closed" and breaker.failures == 0
        rows = await _rows(sessionmaker)
        assert all(r.state == "pending" and r.last_error == "HTTP 409" for r in rows.values())
        for _ in range(20):
            await worker.step()
            await asyncio.sleep(0.02)
        rows = await _rows(sessionmaker)
        assert all(r.state == "sent" for r in rows.values())

    run(scenario())


def test_backlog_counts_pending_and_failed(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        await _enqueue(sessionmaker, "b1", "b2")
        async with sessionmaker() as db:
            found = await outbox.backlog(db)
        assert found.pending >= 2 and found.oldest_age_seconds >= 0

    run(scenario())


def test_a_database_out_of_reach_is_a_warning_and_the_loop_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = make_sessionmaker(make_engine(f"sqlite+aiosqlite:///{tmp_path}/no/db", 0))
    worker = RelayWorker(unreachable, CIPHER, {"test.fake": Scripted({})})

    async def briefly() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.7, stop.set)
        await worker.run(stop)

    run(briefly())
    tries = [r for r in caplog.records if r.name == "portal.relay.worker"]
    assert len(tries) >= 2  # it kept trying
    assert {r.levelname for r in tries} == {"WARNING"}
    assert all(r.exc_info is None for r in tries)
