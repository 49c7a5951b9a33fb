"""Time as the intake platform writes it: China time, RFC 3339 to the second, and the
``Deadline`` of every time limit, counted in working hours (09:00–12:00, 13:00–17:00 China
time on working days) or working days (docs/intake-api.md §2, "Working time and deadlines").

The calendar is the real one (``portal.workdays``): deadlines say what a real platform would
promise, even though the sandbox's departments act in seconds (``intake_speed``).
"""

from __future__ import annotations

import secrets
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from integrations.sandbox.license_store import CHINA
from portal.workdays import add_working_days, is_workday

Party = Literal["authority", "applicant"]
WORKING_PERIODS = ((time(9), time(12)), (time(13), time(17)))
END_OF_DAY = {"authority": time(17), "applicant": time(23, 59, 59)}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def now() -> datetime:
    return datetime.now(CHINA).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(CHINA).isoformat(timespec="seconds")


def ulid() -> str:
    """26 Crockford base-32 characters: 48 bits of milliseconds, 80 random bits."""
    number = (int(clock.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: Literal["working_hours", "working_days"]
    party: Party
    starts_at: datetime | None
    due_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": self.amount,
            "unit": self.unit,
            "party": self.party,
            "starts_on": "acceptance" if self.starts_at is None else None,
            "starts_at": iso(self.starts_at),
            "due_at": iso(self.due_at),
        }


def review_deadline(start: datetime, hours: int = 2) -> Deadline:
    """The counter's review: ``hours`` working hours from ``start``."""
    return Deadline(hours, "working_hours", "authority", start, add_working_hours(start, hours))


def days_deadline(start: datetime, days: int, party: Party) -> Deadline:
    """N working days, not counting the day the clock starts; due at the end of the Nth."""
    last = add_working_days(start.astimezone(CHINA).date(), days)
    return Deadline(days, "working_days", party, start, _at(last, END_OF_DAY[party]))


def from_acceptance(days: int) -> Deadline:
    """A clock that starts when the items concerned are accepted (告知承诺)."""
    return Deadline(days, "working_days", "applicant", None, None)


def add_working_hours(start: datetime, hours: int) -> datetime:
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(CHINA)
    while True:
        day = cursor.date()
        if is_workday(day):
            for begin, end in WORKING_PERIODS:
                opens, closes = max(cursor, _at(day, begin)), _at(day, end)
                if opens >= closes:
                    continue
                if closes - opens >= remaining:
                    return opens + remaining
                remaining -= closes - opens
        cursor = _at(day + timedelta(days=1), time(0))


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, CHINA)
