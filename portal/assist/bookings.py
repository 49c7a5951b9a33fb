"""Bookings: choose a slot, change it, cancel it, join the call when it is time; reminders.

A slot's count only changes by a conditional UPDATE (``booked < capacity``), so concurrent
bookings never overfill it; a person holds one booking per one-thing at a time (a unique key
that is cleared when the booking ends).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from auth.models import Person
from auth.services import PHONE_PURPOSE
from portal import clock
from portal.assist.models import AssistBooking, AssistSlot
from portal.notifications.models import Notification
from portal.notifications.services import preferences
from portal.relay import outbox

JOIN_EARLY = timedelta(minutes=15)
REMIND_BEFORE = timedelta(hours=2)
REMINDER_TEMPLATE = "YJS_ASSIST_REMINDER"


class BookingRefused(Exception):
    """A message code: ``slot_full``, ``slot_past``, ``already_booked``, ``not_open``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _active_key(person_id: int, thing_code: str) -> str:
    return f"{person_id}:{thing_code}"


async def _take_place(db: AsyncSession, slot: AssistSlot) -> None:
    if clock.aware(slot.starts_at) <= clock.now():
        raise BookingRefused("slot_past")
    taken = await db.execute(
        update(AssistSlot)
        .where(AssistSlot.id == slot.id, AssistSlot.booked < AssistSlot.capacity)
        .values(booked=AssistSlot.booked + 1)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise BookingRefused("slot_full")


async def _give_back(db: AsyncSession, slot_id: int) -> None:
    await db.execute(
        update(AssistSlot)
        .where(AssistSlot.id == slot_id, AssistSlot.booked > 0)
        .values(booked=AssistSlot.booked - 1)
    )


async def book(
    db: AsyncSession, slot_id: int, person_id: int, draft_public_id: str | None
) -> AssistBooking:
    """Takes a place in the slot and commits; raises BookingRefused (nothing changed)."""
    slot = await db.get(AssistSlot, slot_id)
    if slot is None:
        raise BookingRefused("slot_full")
    booking = AssistBooking(
        public_id=secrets.token_urlsafe(16),
        slot_id=slot.id,
        person_id=person_id,
        thing_code=slot.thing_code,
        active_key=_active_key(person_id, slot.thing_code),
        draft_public_id=draft_public_id,
        status="booked",
        created_at=clock.now(),
    )
    try:
        await _take_place(db, slot)
        db.add(booking)
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise BookingRefused("already_booked") from None
    except BookingRefused:
        await db.rollback()
        raise
    return booking


async def change(db: AsyncSession, booking: AssistBooking, slot_id: int) -> None:
    """Moves to another slot of the same one-thing: the new place first, then the old one
    given back, in one transaction."""
    slot = await db.get(AssistSlot, slot_id)
    if slot is None or slot.thing_code != booking.thing_code or booking.status != "booked":
        raise BookingRefused("slot_full")
    if slot.id == booking.slot_id:
        return
    try:
        await _take_place(db, slot)
    except BookingRefused:
        await db.rollback()
        raise
    await _give_back(db, booking.slot_id)
    booking.slot_id, booking.reminded_at = slot.id, None
    await db.commit()


async def cancel(db: AsyncSession, booking: AssistBooking) -> None:
    moved = await db.execute(
        update(AssistBooking)
        .where(AssistBooking.id == booking.id, AssistBooking.status == "booked")
        .values(status="cancelled", cancelled_at=clock.now(), active_key=None)
    )
    if moved.rowcount == 1:  # type: ignore[attr-defined]
        await _give_back(db, booking.slot_id)
    await db.commit()


def may_join(slot: AssistSlot, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return clock.aware(slot.starts_at) - JOIN_EARLY <= now < clock.aware(slot.ends_at)


@dataclass(frozen=True)
class BookingView:
    booking: AssistBooking
    slot: AssistSlot

    @property
    def joinable(self) -> bool:
        return self.booking.status == "booked" and may_join(self.slot)


async def bookings_of(db: AsyncSession, person_id: int) -> list[BookingView]:
    rows = await db.execute(
        select(AssistBooking, AssistSlot)
        .join(AssistSlot, AssistSlot.id == AssistBooking.slot_id)
        .where(
            AssistBooking.person_id == person_id,
            AssistBooking.status == "booked",
            AssistSlot.ends_at > clock.now(),
        )
        .order_by(AssistSlot.starts_at)
    )
    return [BookingView(b, s) for b, s in rows.all()]


async def booking_of(db: AsyncSession, public_id: str, person_id: int) -> BookingView | None:
    row = (
        await db.execute(
            select(AssistBooking, AssistSlot)
            .join(AssistSlot, AssistSlot.id == AssistBooking.slot_id)
            .where(AssistBooking.public_id == public_id, AssistBooking.person_id == person_id)
        )
    ).first()
    return BookingView(row[0], row[1]) if row else None


async def bookings_between(db: AsyncSession, start: datetime, end: datetime) -> list[BookingView]:
    """Every live booking in a time range (the console's "today")."""
    rows = await db.execute(
        select(AssistBooking, AssistSlot)
        .join(AssistSlot, AssistSlot.id == AssistBooking.slot_id)
        .where(
            AssistBooking.status.in_(("booked", "joined")),
            AssistSlot.starts_at >= start,
            AssistSlot.starts_at < end,
        )
        .order_by(AssistSlot.starts_at)
    )
    return [BookingView(b, s) for b, s in rows.all()]


async def send_reminders(
    db: AsyncSession, cipher: PersonalDataCipher, thing_names: dict[str, str]
) -> int:
    """Queues one text message for each booking starting within two hours (each booking is
    claimed by a conditional UPDATE first: several processes never remind twice)."""
    now = clock.now()
    due = await db.execute(
        select(AssistBooking, AssistSlot)
        .join(AssistSlot, AssistSlot.id == AssistBooking.slot_id)
        .where(
            AssistBooking.status == "booked",
            AssistBooking.reminded_at.is_(None),
            AssistSlot.starts_at > now,
            AssistSlot.starts_at <= now + REMIND_BEFORE,
        )
    )
    sent = 0
    for booking, slot in due.all():
        claimed = await db.execute(
            update(AssistBooking)
            .where(AssistBooking.id == booking.id, AssistBooking.reminded_at.is_(None))
            .values(reminded_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        person = await db.get(Person, booking.person_id)
        chosen = await preferences(db, booking.person_id)
        if person is None or not person.phone_encrypted or not chosen.sms:
            continue
        params = {
            "thing": thing_names.get(booking.thing_code, booking.thing_code)[:20],
            "time": clock.china(slot.starts_at).strftime("%m-%d %H:%M"),
        }
        notification = Notification(
            person_id=person.id,
            channel="sms",
            event="assist.reminder",
            template=REMINDER_TEMPLATE,
            params=params,
            state="queued",
            created_at=now,
        )
        db.add(notification)
        await db.flush()
        envelope = {
            "mobile": cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE),
            "template": REMINDER_TEMPLATE,
            "params": params,
            "notification_id": notification.id,
        }
        outbox.enqueue(db, cipher, "notify.sms", f"assist-remind-{booking.public_id}", envelope)
        sent += 1
    await db.commit()
    return sent
