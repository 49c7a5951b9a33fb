"""The published schedule: 30-minute slots on working days (China time), morning and
afternoon, per one-thing; slot rows are made on first look and never duplicated."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock, workdays
from portal.assist.models import AssistSlot

SLOT = timedelta(minutes=30)
OPENING_HOURS = ((time(9, 0), time(12, 0)), (time(14, 0), time(17, 0)))


def slot_times(day: date) -> list[tuple[datetime, datetime]]:
    """Start and end of each slot of a day, as aware datetimes; none on a day off."""
    if not workdays.is_workday(day):
        return []
    found = []
    for opens, closes in OPENING_HOURS:
        start = datetime.combine(day, opens, clock.CHINA)
        end = datetime.combine(day, closes, clock.CHINA)
        while start + SLOT <= end:
            found.append((start, start + SLOT))
            start += SLOT
    return found


def bookable_days(today: date, count: int) -> list[date]:
    """Today and the next working days, ``count`` working days in all."""
    days: list[date] = []
    day = today
    while len(days) < count:
        if workdays.is_workday(day):
            days.append(day)
        day += timedelta(days=1)
    return days


async def ensure_slots(
    db: AsyncSession, thing_code: str, days: list[date], capacity: int
) -> list[AssistSlot]:
    """The slots of these days, created when missing (two processes may race: the unique
    key decides, nothing is doubled)."""
    rows = [
        {
            "thing_code": thing_code,
            # UTC in the database: SQLite keeps no offset, and the portal reads naive as UTC.
            "starts_at": start.astimezone(UTC),
            "ends_at": end.astimezone(UTC),
            "capacity": capacity,
            "booked": 0,
        }
        for day in days
        for start, end in slot_times(day)
    ]
    if rows:
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        await db.execute(insert(AssistSlot).values(rows).on_conflict_do_nothing())
    first = datetime.combine(days[0], time(0), clock.CHINA).astimezone(UTC)
    last = datetime.combine(days[-1] + timedelta(days=1), time(0), clock.CHINA).astimezone(UTC)
    found = await db.execute(
        select(AssistSlot)
        .where(
            AssistSlot.thing_code == thing_code,
            AssistSlot.starts_at >= first,
            AssistSlot.starts_at < last,
        )
        .order_by(AssistSlot.starts_at)
    )
    return list(found.scalars())
