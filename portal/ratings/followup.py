"""The platform's follow-up of a bad rating (docs/intake-api.md §8, ``rating.*``), applied by
the sequence rule: a rating's stream takes a snapshot only when its sequence is higher than
the one held, and every snapshot carries the whole list of follow-up steps, so late,
duplicated or shuffled messages converge and the steps always show in order.

The rectification deadline is the portal's: the locality's period (5, 7 or 15 working days,
``PORTAL_RATING_RECTIFY_DAYS``) from the day of the rating, counted with the Chinese calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from portal import clock, workdays
from portal.applications import progress
from portal.ratings.models import Rating

if TYPE_CHECKING:
    from portal.applications.progress_read import RatingRow

STEPS = frozenset({"verified", "rectification_planned", "rectified", "explained", "reviewed"})
# Follow-up ended without a rectification to wait for.
SETTLED = frozenset({"explained", "reviewed"})


def apply(rating: Rating, snapshot: Mapping[str, Any]) -> bool:
    """True when the snapshot is newer than what ``rating`` holds (and now held). In memory
    only: the database's copy is written by :func:`take`."""
    values = _newer_values(rating, snapshot)
    if values is None:
        return False
    for name, value in values.items():
        setattr(rating, name, value)
    return True


async def take(db: AsyncSession, rating: Rating, snapshot: Mapping[str, Any]) -> bool:
    """:func:`apply`, with the sequence rule checked by the row itself: one conditional UPDATE,
    so two events applied at once cannot put the older snapshot over the newer. SQLite has no
    ``SELECT … FOR UPDATE``: both readers saw the old sequence, and the later writer won."""
    values = _newer_values(rating, snapshot)
    if values is None:
        return False
    written = await db.execute(
        update(Rating)
        .where(Rating.id == rating.id, Rating.sequence < values["sequence"])
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not getattr(written, "rowcount", 0):
        await db.refresh(rating)
        return False
    for name, value in values.items():
        set_committed_value(rating, name, value)
    return True


def _newer_values(rating: Rating, snapshot: Mapping[str, Any]) -> dict[str, Any] | None:
    sequence = snapshot.get("sequence")
    if not isinstance(sequence, int) or sequence <= rating.sequence:
        return None
    follow_up = snapshot.get("follow_up") or {}
    steps = [s for s in follow_up.get("events") or [] if isinstance(s, dict)]
    steps.sort(key=lambda s: int(s.get("sequence") or 0))
    return {
        "followup": {"events": steps, "status": follow_up.get("status")},
        "state": str(snapshot.get("state") or rating.state),
        "sequence": sequence,
        "followed_up_at": _first(steps, STEPS),
        "rectified_at": _first(steps, {"rectified"}),
        "heard_at": clock.now(),
    }


def _first(steps: list[dict[str, Any]], kinds: set[str] | frozenset[str]) -> datetime | None:
    for step in steps:
        moment = progress.moment(step.get("occurred_at"))
        if step.get("kind") in kinds and moment is not None:
            # Stored in UTC: SQLite keeps the wall time and drops the offset.
            return clock.aware(moment).astimezone(UTC)
    return None


async def apply_event(db: AsyncSession, data: Mapping[str, Any]) -> tuple[Rating | None, bool]:
    """A ``rating.*`` webhook: (the rating or None when unknown, whether it changed)."""
    rating = await db.scalar(
        select(Rating).where(Rating.public_id == str(data.get("rating_id"))).with_for_update()
    )
    if rating is None:
        return None, False
    return rating, await take(db, rating, data)


def steps(rating: Rating | RatingRow) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = rating.followup.get("events") or []
    return events


@dataclass(frozen=True)
class RectifyDeadline:
    due_at: datetime
    days_left: int  # working days from today to the due day; negative when past
    overdue: bool  # past due and not rectified
    done_on_time: bool | None  # None while not rectified


def deadline(rating: Rating | RatingRow, now: datetime | None = None) -> RectifyDeadline | None:
    """None for ratings that need no rectification (not bad, or explained/reviewed)."""
    if rating.due_at is None or (rating.state in SETTLED and rating.rectified_at is None):
        return None
    now = clock.china(now or clock.now())
    due = clock.china(rating.due_at)
    done = clock.aware(rating.rectified_at) <= due if rating.rectified_at else None
    return RectifyDeadline(
        due_at=due,
        days_left=workdays.working_days_between(now.date(), due.date()),
        overdue=rating.rectified_at is None and due < now,
        done_on_time=done,
    )
