"""The outbox table's operations: enqueue in the caller's transaction, claim under a lease,
record each outcome. Bodies are sealed: they carry ID numbers and mobiles."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from portal import clock
from portal.applications.models import OutboxMessage
from portal.applications.package import canonical

PURPOSE = "outbox.body"
OUTBOX = cast(Table, OutboxMessage.__table__)  # a plain table: no ORM bulk path for ``insert_now``


@dataclass(frozen=True)
class Claimed:
    id: int
    topic: str
    key: str
    application_id: int | None
    attempts: int
    created_at: datetime
    envelope: dict[str, Any]


def enqueue(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    topic: str,
    key: str,
    envelope: dict[str, Any],
    application_id: int | None = None,
) -> OutboxMessage:
    """Adds the row to ``db``'s transaction; the caller commits it with its own change."""
    message = OutboxMessage(**_row(cipher, topic, key, envelope, application_id))
    db.add(message)
    return message


async def insert_now(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    topic: str,
    key: str,
    envelope: dict[str, Any],
    application_id: int | None = None,
) -> None:
    """``enqueue`` as one ``INSERT`` now, outside the session's unit of work (the submit's
    hot path); still in ``db``'s transaction, committed with the caller's change."""
    await db.execute(insert(OUTBOX).values(_row(cipher, topic, key, envelope, application_id)))


def _row(
    cipher: PersonalDataCipher,
    topic: str,
    key: str,
    envelope: dict[str, Any],
    application_id: int | None,
) -> dict[str, Any]:
    now = clock.now()
    return {
        "topic": topic,
        "idempotency_key": key,
        "application_id": application_id,
        "body": cipher.encrypt(canonical(envelope).decode(), PURPOSE),
        "state": "pending",
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }


async def claim(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    topics: Collection[str],
    limit: int,
    lease: timedelta,
) -> list[Claimed]:
    """Due rows of ``topics``, leased to this worker until ``now + lease`` (one statement: on
    PostgreSQL rows another worker holds are skipped, not waited for)."""
    if not topics:
        return []
    now = clock.now()
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.state == "pending",
            OutboxMessage.available_at <= now,
            OutboxMessage.topic.in_(topics),
        )
        .order_by(OutboxMessage.available_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), OutboxMessage.available_at <= now)
        .values(available_at=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(
            OutboxMessage.id,
            OutboxMessage.topic,
            OutboxMessage.idempotency_key,
            OutboxMessage.application_id,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.body,
        )
        .execution_options(synchronize_session=False)
    )
    rows = claimed.all()
    await db.commit()
    return [
        Claimed(
            id=row.id,
            topic=row.topic,
            key=row.idempotency_key,
            application_id=row.application_id,
            attempts=row.attempts,
            created_at=clock.aware(row.created_at),
            envelope=json.loads(cipher.decrypt(row.body, PURPOSE)),
        )
        for row in rows
    ]


async def mark_sent(db: AsyncSession, message_ids: Collection[int]) -> None:
    """A whole batch in one statement."""
    if not message_ids:
        return
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .values(state="sent", sent_at=clock.now(), last_error=None)
        .execution_options(synchronize_session=False)
    )


async def retry_later(db: AsyncSession, message_id: int, at: datetime, error: str) -> None:
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(available_at=at, last_error=error[:2000])
    )


async def mark_failed(db: AsyncSession, message_id: int, error: str) -> None:
    await db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(state="failed", last_error=error[:2000])
    )


async def hurry(db: AsyncSession, topics: Collection[str]) -> int:
    """After a target comes back, everything waiting on its backoff is due now."""
    result = await db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == "pending",
            OutboxMessage.topic.in_(topics),
            OutboxMessage.attempts > 0,
            OutboxMessage.available_at > clock.now() + timedelta(seconds=1),
        )
        .values(available_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    await db.commit()
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_age_seconds: float


async def backlog(db: AsyncSession) -> Backlog:
    pending, oldest = (
        await db.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                OutboxMessage.state == "pending"
            )
        )
    ).one()
    failed = await db.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "failed")
    )
    age = (clock.now() - clock.aware(oldest)).total_seconds() if oldest else 0.0
    return Backlog(int(pending), int(failed or 0), age)
