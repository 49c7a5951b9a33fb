"""Booking over HTTP (choose, change, cancel, join when it is time) and the reminder."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from auth.models import Person
from portal import clock
from portal.assist import bookings
from portal.assist.ice import ice_servers
from portal.assist.models import AssistBooking, AssistSlot
from portal.assist.schedule import bookable_days, slot_times
from portal.db import make_engine, make_sessionmaker
from portal.notifications.models import Notification
from portal.relay import outbox
from tests.assist.helpers import person, post

SLOT_RADIO = re.compile(r'name="slot" value="(\d+)"(?! disabled)')


def _db(database_url: str, work: Any) -> Any:
    async def main() -> Any:
        engine = make_engine(database_url, 0)
        try:
            async with make_sessionmaker(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_the_schedule_has_working_day_slots_only() -> None:
    from datetime import date

    assert slot_times(date(2026, 10, 1)) == []  # National Day
    day = slot_times(date(2026, 12, 7))  # a Monday
    assert len(day) == 12 and day[0][0].hour == 9 and day[-1][1].hour == 17
    assert all(d.weekday() < 5 for d in bookable_days(date(2026, 12, 5), 5))


def test_book_change_cancel_over_http(app: Starlette, database_url: str) -> None:
    with person(app, "zhao-min") as citizen:
        page = citizen.get("/assist/book?thing=disability-services")
        assert page.status_code == 200
        times = set(re.findall(r"<span>(\d\d:\d\d)</span>", page.text))
        assert "09:00" in times and "16:30" in times  # China time, as published
        assert times <= {f"{h:02d}:{m:02d}" for h in (9, 10, 11, 14, 15, 16) for m in (0, 30)}
        first, second = SLOT_RADIO.findall(page.text)[:2]
        booked = post(
            citizen,
            "/assist/book?thing=disability-services",
            "/assist/book",
            {"thing": "disability-services", "slot": first},
        )
        assert booked.headers["location"].startswith("/assist?booked=1")
        again = post(
            citizen,
            "/assist/book?thing=disability-services",
            "/assist/book",
            {"thing": "disability-services", "slot": second},
        )
        assert again.status_code == 409 and "您已经预约了这件事的帮办" in again.text
        missing = post(
            citizen,
            "/assist/book?thing=disability-services",
            "/assist/book",
            {"thing": "disability-services"},
        )
        assert missing.status_code == 400 and "请选择一个时段" in missing.text

        mine = citizen.get("/assist").text
        booking = re.search(r"/assist/bookings/([^/]+)/change", mine)
        assert booking
        change = f"/assist/bookings/{booking.group(1)}/change"
        assert post(citizen, change, change, {"slot": second}).status_code == 303
        slots = _db(database_url, lambda db: _slots(db, [int(first), int(second)]))
        assert slots == {int(first): 0, int(second): 1}

        with person(app, "zhang-wei") as stranger:  # not theirs: no such booking
            assert stranger.get(change).status_code == 404
            assert post(stranger, "/assist", change.replace("change", "cancel")).status_code == 404

        join = post(citizen, "/assist", change.replace("change", "join"))
        assert "problem=not_open" in join.headers["location"]  # not yet time
        cancel = post(citizen, "/assist", change.replace("change", "cancel"))
        assert cancel.headers["location"].startswith("/assist?cancelled=1")
        assert _db(database_url, lambda db: _slots(db, [int(second)])) == {int(second): 0}


async def _slots(db: Any, ids: list[int]) -> dict[int, int]:
    rows = await db.execute(select(AssistSlot).where(AssistSlot.id.in_(ids)))
    return {s.id: s.booked for s in rows.scalars()}


def test_joining_a_booking_when_it_is_time(app: Starlette, database_url: str) -> None:
    with person(app, "liu-qiang") as citizen:
        citizen.get("/assist")
        start = clock.now() + timedelta(minutes=10)

        async def make(db: Any) -> str:
            me = await db.scalar(select(Person).where(Person.subject == "liu-qiang"))
            slot = AssistSlot(
                thing_code="veterans",
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                capacity=2,
                booked=0,
            )
            db.add(slot)
            await db.commit()
            booking = await bookings.book(db, slot.id, me.id, None)
            return booking.public_id

        booking = _db(database_url, make)
        assert "进入视频帮办" in citizen.get("/assist").text
        joined = post(citizen, "/assist", f"/assist/bookings/{booking}/join")
        session = joined.headers["location"]
        assert session.startswith("/assist/s/")
        assert "预计等待约" in citizen.get(session).text
        post(citizen, session, f"{session}/leave")


def test_a_reminder_two_hours_before_once(app: Starlette, database_url: str) -> None:
    async def work(db: Any) -> tuple[int, int, list[str]]:
        me = await db.scalar(select(Person).where(Person.subject == "liu-qiang"))
        start = clock.now() + timedelta(minutes=90)
        slot = AssistSlot(
            thing_code="retirement",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            capacity=1,
            booked=0,
        )
        db.add(slot)
        await db.commit()
        booking = await bookings.book(db, slot.id, me.id, None)
        names = {"retirement": "退休一件事"}
        first = await bookings.send_reminders(db, app.state.cipher, names)
        second = await bookings.send_reminders(db, app.state.cipher, names)
        logged = await db.scalar(
            select(Notification).where(
                Notification.person_id == me.id, Notification.event == "assist.reminder"
            )
        )
        assert logged is not None and logged.channel == "sms" and logged.state == "queued"
        row = await db.scalar(
            select(AssistBooking).where(AssistBooking.public_id == booking.public_id)
        )
        assert row.reminded_at is not None
        claimed = await outbox.claim(
            db, app.state.cipher, ["notify.sms"], 500, timedelta(seconds=60)
        )
        envelopes = [c.envelope for c in claimed if c.key.startswith("assist-remind-")]
        await db.rollback()
        mine = [e for e in envelopes if e["params"]["thing"] == "退休一件事"]
        return first, second, [e["mobile"] for e in mine]

    with person(app, "liu-qiang"):
        first, second, mobiles = _db(database_url, work)
    assert first >= 1 and second == 0
    assert mobiles and all(m == "13503736097" for m in mobiles)


def test_turn_credentials_are_coturn_style() -> None:
    servers = ice_servers("stun:s.example:3478 turn:t.example:3478", "secret", 7, now=1000.0)
    assert servers[0] == {"urls": ["stun:s.example:3478"]}
    assert servers[1]["username"] == "22600:7" and servers[1]["urls"] == ["turn:t.example:3478"]
    assert servers[1]["credential"] == "v3qW8rifR21wT0Epo9uscVt/HV0="
    assert ice_servers("turn:t.example:3478", "", 7) == []  # no secret: no TURN
    assert ice_servers("", "", 7) == []
