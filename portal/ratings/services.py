"""The rules of rating: what may be rated and by whom, what a rating must say, and writing it
with its outbox row in one transaction; rating the rectification of a bad one.

一事一评: one rating per application, and per sub-item once it has its result, per rater.
The unique constraint decides a race; the loser is told it has already rated.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from auth.actor import Actor
from auth.crypto import PersonalDataCipher
from portal import clock, workdays
from portal.applications import package, parties, progress
from portal.applications.models import Application, ApplicationItem
from portal.catalog.schema import Item, OneThing
from portal.ratings.levels import (
    BAD,
    COMMENT_LIMIT,
    FIX_LEVELS,
    INDICATORS,
    LEVELS,
    REASONS,
    group,
)
from portal.ratings.models import Rating
from portal.relay import outbox

if TYPE_CHECKING:
    from portal.applications.progress_read import ApplicationRow, ItemRow, RatingRow

# An item is rated after its result: issued, delivered, or a refusal (also a result).
RATEABLE_ITEM = frozenset({"result_issued", "delivered", "not_accepted", "refused"})
RATE_TOPIC = "intake.rate"
FIX_TOPIC = "intake.rate_fix"


@dataclass(frozen=True)
class Target:
    """The whole application (``item_key`` "") or one sub-item, and this rater's rating."""

    item_key: str
    item: Item | None
    department: str
    open: bool
    rating: Rating | RatingRow | None

    @property
    def slug(self) -> str:
        return f"items/{self.item_key}/rate" if self.item_key else "rate"


def targets(
    application: Application | ApplicationRow,
    thing: OneThing,
    rows: Sequence[ApplicationItem | ItemRow],
    mine: Sequence[Rating | RatingRow],
) -> list[Target]:
    by_key = {r.item_key: r for r in mine}
    config = {item.key: item for item in thing.items}
    whole = Target("", None, "", application.status == "concluded", by_key.get(""))
    return [
        whole,
        *(
            Target(
                row.item_key,
                config.get(row.item_key),
                row.department,
                row.status in RATEABLE_ITEM,
                by_key.get(row.item_key),
            )
            for row in rows
        ),
    ]


async def ratings_by(db: AsyncSession, application: Application, rater_id: int) -> list[Rating]:
    rows = await db.execute(
        select(Rating)
        .where(Rating.application_id == application.id, Rating.rater_id == rater_id)
        .order_by(Rating.id)
    )
    return list(rows.scalars())


async def target_for(
    db: AsyncSession, application: Application, thing: OneThing, actor: Actor, item_key: str
) -> Target | None:
    rows = await db.execute(
        select(ApplicationItem)
        .where(ApplicationItem.application_id == application.id)
        .order_by(ApplicationItem.id)
    )
    mine = await ratings_by(db, application, actor.person_id)
    found = targets(application, thing, list(rows.scalars()), mine)
    return next((t for t in found if t.item_key == item_key), None)


@dataclass
class Answer:
    """What the form said, kept as typed so a page with a problem shows it again."""

    level: int | None = None
    indicators: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    comment: str = ""
    anonymous: bool = False


def read_answer(form: FormData) -> Answer:
    raw = str(form.get("level", ""))
    level = int(raw) if raw.isdigit() and int(raw) in LEVELS else None
    return Answer(
        level=level,
        # Each level's group of indicators has its own boxes: only the chosen group's count.
        indicators=[
            str(v)
            for v in form.getlist(f"indicators_{group(level)}" if level else "")
            if v in INDICATORS
        ],
        reasons=[str(v) for v in form.getlist("reasons") if v in REASONS],
        comment=str(form.get("comment", "")).strip(),
        anonymous=form.get("anonymous") == "yes",
    )


def problems(answer: Answer) -> dict[str, str]:
    """Field → message key; empty when the rating may be sent."""
    found: dict[str, str] = {}
    if answer.level is None:
        found["level"] = "level_missing"
    elif answer.level in BAD and not answer.reasons:
        found["reasons"] = "reasons_missing"
    if answer.level in BAD and "other" in answer.reasons and not answer.comment:
        found["comment"] = "comment_needed"
    if len(answer.comment) > COMMENT_LIMIT:
        found["comment"] = "comment_long"
    return found


def kept(answer: Answer) -> Answer:
    """What is stored: reasons only with a bad level (the form shows every group)."""
    return replace(answer, reasons=answer.reasons if answer.level in BAD else [])


def rectify_due(rated_at: datetime, days: int) -> datetime:
    """The end (17:00 China time) of the ``days``-th working day after the rating."""
    last = workdays.add_working_days(clock.china(rated_at).date(), days)
    # Stored in UTC: SQLite keeps the wall time and drops the offset.
    return datetime.combine(last, time(17), clock.CHINA).astimezone(UTC)


async def rate(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    actor: Actor,
    application: Application,
    target: Target,
    answer: Answer,
    rectify_days: int,
) -> Rating | None:
    """Stores the rating and its outbox row; None when this rater has rated it already."""
    answer = kept(answer)
    level = answer.level
    assert level is not None
    now = clock.now()
    rating = Rating(
        public_id=secrets.token_urlsafe(16),
        application_id=application.id,
        item_key=target.item_key,
        thing_code=application.thing_code,
        department=target.department,
        rater_id=actor.person_id,
        level=level,
        indicators=answer.indicators,
        reasons=answer.reasons,
        comment={"text": answer.comment} if answer.comment else {},
        anonymous=answer.anonymous,
        created_at=now,
        heard_at=now,
        relay_status="pending",
        state="submitted",
        sequence=-1,
        followup={},
        due_at=rectify_due(now, rectify_days) if level in BAD else None,
    )
    db.add(rating)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        return None
    _, operator = await parties.resolve(db, cipher, actor)
    body: dict[str, Any] = {
        "rating_id": rating.public_id,
        "item_key": target.item_key or None,
        "level": LEVELS[level],
        "indicators": answer.indicators,
        "reasons": answer.reasons,
        "comment": answer.comment or None,
        "channel": "online",
        "rater": None if answer.anonymous else package.operator_json(operator),
        "rated_at": _iso(now),
    }
    path = f"/applications/{application.public_id}/ratings"
    envelope = {"path": path, "body": body, "rating_id": rating.public_id}
    outbox.enqueue(db, cipher, RATE_TOPIC, rating.public_id, envelope, application.id)
    progress.record(db, application, "portal.rated", item_key=target.item_key or None)
    await db.commit()
    return rating


# Rectification (整改) ---------------------------------------------------------------------


async def rating_of(
    db: AsyncSession, application: Application, public_id: str, actor: Actor
) -> Rating | None:
    """The rating, only for the person who gave it."""
    rating = await db.scalar(
        select(Rating).where(Rating.public_id == public_id, Rating.application_id == application.id)
    )
    if rating is None or rating.rater_id != actor.person_id:
        return None
    return rating


def may_rate_fix(rating: Rating | RatingRow) -> bool:
    return rating.state == "rectified" and rating.fix_level is None


def fix_problems(level: str, comment: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if level not in FIX_LEVELS:
        found["fix_level"] = "fix_level_missing"
    if len(comment) > COMMENT_LIMIT:
        found["comment"] = "comment_long"
    return found


async def rate_fix(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    application: Application,
    rating: Rating,
    level: str,
    comment: str,
) -> None:
    now = clock.now()
    rating.fix_level, rating.fix_rated_at = level, now
    body = {"level": level, "comment": comment or None, "rated_at": _iso(now)}
    path = f"/applications/{application.public_id}/ratings/{rating.public_id}/rectification-rating"
    key = f"{rating.public_id}-fix"
    envelope = {"path": path, "body": body, "rating_id": rating.public_id}
    outbox.enqueue(db, cipher, FIX_TOPIC, key, envelope, application.id)
    progress.record(db, application, "portal.fix_rated", item_key=rating.item_key or None)
    await db.commit()


def _iso(moment: datetime) -> str:
    return clock.china(moment).isoformat(timespec="seconds")
