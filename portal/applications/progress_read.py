"""The application page's reads in plain SQL (Core, no ORM session, sent by db_reads): the
application in one statement, then — only when the actor may see it — its items, timeline,
reminders sent, pending outbox topics and this person's ratings in a second one (a
``UNION ALL`` of one row shape). The sealed form values and delivery address are never read;
the htmx poll skips the timeline and reminders, which only the whole page shows."""

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
_APPLICATION = select(*(_A[name] for name in ApplicationRow.__dataclass_fields__)).where(
    _A.public_id == bindparam("public_id")
)

# The second statement's row: every part fills the columns it has, NULL (typed, so
# PostgreSQL can match the parts' types) elsewhere.
_SHAPE: dict[str, Any] = {
    "id": Integer(),
    "key": String(),
    "state": String(),
    "text1": String(),
    "text2": String(),
    "text3": String(),
    "number": Integer(),
    "at1": DateTime(timezone=True),
    "at2": DateTime(timezone=True),
    "data": JSON(),
    "flag": Boolean(),
}


def _part(name: str, columns: dict[str, Any], *where: Any) -> Select[Any]:
    shaped = [
        (columns[key] if key in columns else cast(null(), kind)).label(key)
        for key, kind in _SHAPE.items()
    ]
    return select(literal_column(f"'{name}'", String()).label("part"), *shaped).where(*where)


def _children(*, whole: bool) -> Any:
    """Built once per shape; ``:application`` and ``:person`` are bound per request."""
    application_id = bindparam("application", type_=Integer())
    person_id = bindparam("person", type_=Integer())
    item, event, note = (
        ApplicationItem.__table__.c,
        ApplicationEvent.__table__.c,
        Notification.__table__.c,
    )
    rating, outbox = Rating.__table__.c, OutboxMessage.__table__.c
    parts = [
        _part(
            "item",
            {
                "id": item.id,
                "key": item.item_key,
                "state": item.status,
                "text1": item.department,
                "data": item.snapshot,
            },
            item.application_id == application_id,
        ),
        _part(
            "outbox",
            {"id": outbox.id, "key": outbox.topic},
            outbox.application_id == application_id,
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
            rating.application_id == application_id,
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
                event.application_id == application_id,
            ),
            _part(
                "notification",
                {"id": note.id, "key": note.channel, "state": note.state, "at1": note.created_at},
                note.application_id == application_id,
            ),
        ]
    return union_all(*parts)


_WHOLE, _LIVE = _children(whole=True), _children(whole=False)


async def application_for(db: Reader, public_id: str, actor: Actor) -> ApplicationRow | None:
    """The application if the actor may see it (services.may_access), else None."""
    found = await db.first(_APPLICATION, {"public_id": public_id})
    if found is None:
        return None
    application = ApplicationRow(*found)
    return application if services.may_access(application, actor) else None


async def children(
    db: Reader, application_id: int, person_id: int, *, whole: bool = True
) -> Children:
    """``whole=False`` (the htmx poll of the live part): no timeline, no reminders."""
    statement = _WHOLE if whole else _LIVE
    rows = await db.all(statement, {"application": application_id, "person": person_id})
    return _sorted(rows)


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
        else:
            found.ratings.append(
                RatingRow(
                    *(r.id, r.text1, r.key, r.number, r.state, r.text2),
                    *(r.text3, bool(r.flag), r.data or {}, r.at1, r.at2),
                )
            )
    found.notifications.sort(key=lambda n: n.created_at, reverse=True)
    return found
