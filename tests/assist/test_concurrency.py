"""The queue and bookings under concurrent requests: a slot never holds more than its
capacity, a citizen is never taken by two assistants, asking twice gives one place."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from auth.models import Person
from portal import clock
from portal.assist import bookings, services
from portal.assist.models import AssistBooking, AssistSession, AssistSlot
from portal.db import make_engine, make_sessionmaker

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _sealed(app: Starlette) -> None:
    """Sessions seal their notes: the app configures the key."""


def _run(database_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = make_engine(database_url, 20)
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _people(maker: Any, count: int) -> list[int]:
    async with maker() as db:
        people = [
            Person(
                issuer="test",
                subject=f"crowd-{secrets.token_hex(6)}",
                name="测试",
                roles=[],
                highest_level="L3",
                created_at=clock.now(),
                last_sign_in_at=clock.now(),
            )
            for _ in range(count)
        ]
        db.add_all(people)
        await db.commit()
        return [p.id for p in people]


def test_a_slot_never_holds_more_than_its_capacity(database_url: str) -> None:
    async def work(maker: Any) -> tuple[list[str], int, int]:
        ids = await _people(maker, 12)
        start = clock.now() + timedelta(days=1)
        async with maker() as db:
            slot = AssistSlot(
                thing_code=f"t-{secrets.token_hex(4)}",
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                capacity=3,
                booked=0,
            )
            db.add(slot)
            await db.commit()

        async def one(person_id: int) -> str:
            async with maker() as db:
                try:
                    await bookings.book(db, slot.id, person_id, None)
                    return "booked"
                except bookings.BookingRefused as refused:
                    return refused.code

        results = await asyncio.gather(*(one(i) for i in ids), *(one(ids[0]) for _ in range(3)))
        async with maker() as db:
            fresh = await db.get(AssistSlot, slot.id)
            rows = await db.scalar(select(func.count()).where(AssistBooking.slot_id == slot.id))
        assert fresh is not None
        return results, fresh.booked, int(rows or 0)

    results, booked, rows = _run(database_url, work)
    assert results.count("booked") == 3 == booked == rows
    assert set(results) <= {"booked", "slot_full", "already_booked"}


def test_cancel_and_change_give_places_back(database_url: str) -> None:
    async def work(maker: Any) -> tuple[int, int, int]:
        [me, other] = await _people(maker, 2)
        code = f"t-{secrets.token_hex(4)}"
        start = clock.now() + timedelta(days=1)
        async with maker() as db:
            first, second = (
                AssistSlot(
                    thing_code=code,
                    starts_at=start + timedelta(minutes=30 * n),
                    ends_at=start + timedelta(minutes=30 * (n + 1)),
                    capacity=1,
                    booked=0,
                )
                for n in (0, 1)
            )
            db.add_all([first, second])
            await db.commit()
        async with maker() as db:
            mine = await bookings.book(db, first.id, me, None)
            await bookings.change(db, mine, second.id)
        async with maker() as db:
            await bookings.book(db, first.id, other, None)  # the place I left is free again
            try:
                await bookings.book(db, second.id, other, None)
            except bookings.BookingRefused as refused:
                assert refused.code in ("slot_full", "already_booked")
            found = await db.get(AssistBooking, mine.id)
            assert found is not None
            await bookings.cancel(db, found)
            await bookings.cancel(db, found)  # twice: the place is given back once
            one, two = await db.get(AssistSlot, first.id), await db.get(AssistSlot, second.id)
            assert one is not None and two is not None
            await db.refresh(one)
            await db.refresh(two)
            return one.booked, two.booked, found.status == "cancelled"

    assert _run(database_url, work) == (1, 0, True)


def test_the_queue_under_concurrent_asks_and_takes(database_url: str) -> None:
    async def work(maker: Any) -> tuple[list[str], list[int | None], list[int]]:
        citizens = await _people(maker, 6)
        assistants = await _people(maker, 4)

        async def asks(person_id: int) -> str:
            async with maker() as db:
                return (await services.ask_now(db, person_id, "newborn", None)).public_id

        # Each citizen double-clicks: two requests at once, one place.
        places = await asyncio.gather(*(asks(c) for c in citizens for _ in range(2)))
        mine = set(places)
        assert len(mine) == len(citizens)

        async def takes(assistant_id: int) -> AssistSession | None:
            async with maker() as db:
                return await services.take(db, assistant_id, None)

        taken: list[AssistSession | None] = []
        for _ in range(3):  # more takes than citizens, all at once
            taken += await asyncio.gather(*(takes(a) for a in assistants))
        ours = [s for s in taken if s is not None and s.public_id in mine]
        async with maker() as db:
            positions = []
            for s in await services.waiting(db):
                positions.append((await services.place_in_queue(db, s)).position)
        return [s.public_id for s in ours], [s.assistant_id for s in ours], positions

    taken, by, positions = _run(database_url, work)
    assert len(taken) == len(set(taken)) == 6  # every citizen taken exactly once
    assert all(by)
    assert positions == list(range(1, len(positions) + 1))


def test_the_estimated_wait_follows_recent_calls(database_url: str) -> None:
    async def work(maker: Any) -> services.Place:
        [citizen] = await _people(maker, 1)
        async with maker() as db:
            session = await services.ask_now(db, citizen, "newborn", None)
            place = await services.place_in_queue(db, session)
            await services.end(db, session, "left_queue")
            return place

    place = _run(database_url, work)
    assert place.position >= 1 and place.minutes >= 1


def test_a_place_left_for_hours_ends(database_url: str) -> None:
    async def work(maker: Any) -> tuple[str, str | None, int | None]:
        [citizen] = await _people(maker, 1)
        async with maker() as db:
            session = await services.ask_now(db, citizen, "newborn", None)
            session.queued_at = clock.now() - timedelta(hours=5)
            await db.commit()
            await services.expire_waiting(db)
            await db.refresh(session)
            return session.status, session.outcome, session.open_for

    assert _run(database_url, work) == ("ended", "expired", None)
