"""The application page's read in plain SQL (Core, no ORM session, sent by db_reads): one
statement, a ``UNION ALL`` of one row shape, gives the application, its items, timeline,
reminders sent, pending outbox topics and this person's ratings. Its children are read only
when the application belongs to the actor's subject, and the page shows nothing of them
unless the actor may see it. The sealed form values and delivery address are never read; the
htmx poll skips the timeline and reminders, which only the whole page shows.

One statement rather than two (the application, then its children) saves a round trip: on
PostgreSQL a statement costs ~50 µs of the server's CPU before any row (``SELECT 1``), and
this process the driver's send, wait and parse (docs/performance.md, ninth round)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.expression import Select

from auth.actor import Actor
from portal.applications import services
from portal.applications.models import Application, ApplicationEvent, ApplicationItem, OutboxMessage
from portal.db_reads import Reader
from portal.notifications.models import Notification
from portal.ratings.models import Rating
from portal.sealed import SealedJSON


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    public_id: str
    thing_code: str
    subject_kind: str
    subject_id: int
    operator_id: int
    status: str
    relay_status: str
    relay_error: str | None
    submission_number: str | None
    receipt_number: str | None
    submitted_at: datetime
    figures: dict[str, int]
    platform: dict[str, Any]


@dataclass(frozen=True)
class ItemRow:
    id: int
    item_key: str
    department: str
    status: str
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class EventRow:
    id: int
    item_key: str | None
    kind: str
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class NotificationRow:
    id: int
    channel: str
    state: str
    created_at: datetime


@dataclass(frozen=True)
class RatingRow:
    id: int
    public_id: str
    item_key: str
    level: int
    state: str
    relay_status: str
    fix_level: str | None
    anonymous: bool
    followup: dict[str, Any]
    due_at: datetime | None
    rectified_at: datetime | None


@dataclass(frozen=True)
class Children:
    items: list[ItemRow]
    events: list[EventRow]
    notifications: list[NotificationRow]  # newest first
    pending_topics: set[str]
    ratings: list[RatingRow]


_A = Application.__table__.c

# Every row of the statement has this shape: each part fills the columns it has, NULL (typed,
# so PostgreSQL can match the parts' types) elsewhere. The result's types are those of the
# first part, the application's.
_SHAPE: dict[str, Any] = {
    "id": Integer(),
    "key": String(),
    "state": String(),
    "text1": String(),
    "text2": String(),
    "text3": String(),
    "text4": String(),
    "text5": String(),
    "text6": String(),
    "number": Integer(),
    "number2": Integer(),
    "at1": DateTime(timezone=True),
    "at2": DateTime(timezone=True),
    "data": JSON(),
    "sealed": SealedJSON(),  # the application's ``platform``, opened as it is read
    "flag": Boolean(),
}


# Where each field of the application's row travels in the shape.
_APPLICATION = {
    "id": "id",
    "public_id": "key",
    "thing_code": "text1",
    "subject_kind": "text2",
    "subject_id": "number",
    "operator_id": "number2",
    "status": "state",
    "relay_status": "text3",
    "relay_error": "text4",
    "submission_number": "text5",
    "receipt_number": "text6",
    "submitted_at": "at1",
    "figures": "data",
    "platform": "sealed",
}


def _part(name: str, columns: dict[str, Any], *where: Any) -> Select[Any]:
    shaped = [
        (columns[key] if key in columns else cast(null(), kind)).label(key)
        for key, kind in _SHAPE.items()
    ]
    return select(literal_column(f"'{name}'", String()).label("part"), *shaped).where(*where)


def _page(*, whole: bool) -> Any:
    """Built once per shape; ``:public_id``, the actor's subject and ``:person`` are bound per
    request. The application's children are read only for an application of the actor's
    subject; the rest of the access rule (``services.may_access``) is checked on its row."""
    subject = (
        _A.public_id == bindparam("public_id", type_=String()),
        _A.subject_kind == bindparam("subject_kind", type_=String()),
        _A.subject_id == bindparam("subject_id", type_=Integer()),
    )
    target = select(_A.id).where(*subject).cte("target")
    person_id = bindparam("person", type_=Integer())
    item, event, note = (
        ApplicationItem.__table__.c,
        ApplicationEvent.__table__.c,
        Notification.__table__.c,
    )
    rating, outbox = Rating.__table__.c, OutboxMessage.__table__.c
    parts = [
        _part("application", {shape: _A[name] for name, shape in _APPLICATION.items()}, *subject),
        _part(
            "item",
            {
                "id": item.id,
                "key": item.item_key,
                "state": item.status,
                "text1": item.department,
                "data": item.snapshot,
            },
            item.application_id == target.c.id,
        ),
        _part(
            "outbox",
            {"id": outbox.id, "key": outbox.topic},
            outbox.application_id == target.c.id,
            outbox.state == "pending",
        ),
        _part(
            "rating",
            {
                "id": rating.id,
                "key": rating.item_key,
                "state": rating.state,
                "text1": rating.public_id,
                "text2": rating.relay_status,
                "text3": rating.fix_level,
                "number": rating.level,
                "at1": rating.due_at,
                "at2": rating.rectified_at,
                "data": rating.followup,
                "flag": rating.anonymous,
            },
            rating.application_id == target.c.id,
            rating.rater_id == person_id,
        ),
    ]
    if whole:
        parts += [
            _part(
                "event",
                {
                    "id": event.id,
                    "key": event.item_key,
                    "state": event.kind,
                    "at1": event.occurred_at,
                    "data": event.data,
                },
                event.application_id == target.c.id,
            ),
            _part(
                "notification",
                {"id": note.id, "key": note.channel, "state": note.state, "at1": note.created_at},
                note.application_id == target.c.id,
            ),
        ]
    return union_all(*parts)


_WHOLE, _LIVE = _page(whole=True), _page(whole=False)


async def page(
    db: Reader, public_id: str, actor: Actor, *, whole: bool = True
) -> tuple[ApplicationRow, Children] | None:
    """The application and what its page shows, if the actor may see it (else None), in one
    statement. ``whole=False`` (the htmx poll of the live part): no timeline, no reminders."""
    return parsed(await rows(db, public_id, actor, whole=whole), actor)


async def rows(db: Reader, public_id: str, actor: Actor, *, whole: bool = True) -> list[Any]:
    """The statement's rows, as ``parsed`` takes them (and ``progress_pages`` keeps them)."""
    return await db.all(
        _WHOLE if whole else _LIVE,
        {
            "public_id": public_id,
            "subject_kind": actor.subject.kind,
            "subject_id": actor.subject.id,
            "person": actor.person_id,
        },
    )


def application_id(found: Sequence[Any]) -> int | None:
    """The application's id, if the rows hold it (its subject is the actor's)."""
    return next((r.id for r in found if r.part == "application"), None)


def parsed(found: Sequence[Any], actor: Actor) -> tuple[ApplicationRow, Children] | None:
    """The application and its children from ``rows``, if the actor may see it."""
    row = next((r for r in found if r.part == "application"), None)
    if row is None:
        return None
    application = ApplicationRow(
        **{name: getattr(row, shape) for name, shape in _APPLICATION.items()}
    )
    if not services.may_access(application, actor):
        return None
    return application, _sorted(found)


def _sorted(rows: Sequence[Any]) -> Children:
    found = Children([], [], [], set(), [])
    for r in sorted(rows, key=lambda r: r.id):
        if r.part == "item":
            found.items.append(ItemRow(r.id, r.key, r.text1, r.state, r.data))
        elif r.part == "event":
            found.events.append(EventRow(r.id, r.key, r.state, r.at1, r.data))
        elif r.part == "notification":
            found.notifications.append(NotificationRow(r.id, r.key, r.state, r.at1))
        elif r.part == "outbox":
            found.pending_topics.add(r.key)
        elif r.part == "rating":
            found.ratings.append(
                RatingRow(
                    *(r.id, r.text1, r.key, r.number, r.state, r.text2),
                    *(r.text3, bool(r.flag), r.data or {}, r.at1, r.at2),
                )
            )
    found.notifications.sort(key=lambda n: n.created_at, reverse=True)
    return found
