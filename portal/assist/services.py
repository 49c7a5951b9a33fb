"""Sessions: the queue (ask now), taking the next citizen, who may be in a session, chat,
ending with a summary, rating. Every change that others must see is announced on the hub
by the caller after its commit."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from auth.actor import Actor
from portal import clock
from portal.assist import cofill
from portal.assist.models import (
    AssistBooking,
    AssistMessage,
    AssistSession,
)

ASSISTANT_ROLE = "assistant"
DEFAULT_MINUTES = 10  # expected length of a call before there is any history
MAX_CHAT = 500
OUTCOMES = ("helped", "callback", "unresolved")


def is_assistant(actor: Actor | None) -> bool:
    return actor is not None and ASSISTANT_ROLE in actor.roles


def role_in(session: AssistSession, actor: Actor | None) -> str | None:
    """``citizen`` or ``assistant`` when the actor belongs in this session, else None: an
    assistant only in the sessions they took, nobody else at all."""
    if actor is None:
        return None
    if actor.person_id == session.citizen_id:
        return "citizen"
    if is_assistant(actor) and session.assistant_id == actor.person_id:
        return "assistant"
    return None


async def session_for(
    db: AsyncSession, public_id: str, actor: Actor | None
) -> tuple[AssistSession, str] | None:
    session = await db.scalar(select(AssistSession).where(AssistSession.public_id == public_id))
    if session is None:
        return None
    role = role_in(session, actor)
    return (session, role) if role else None


async def ask_now(
    db: AsyncSession,
    citizen_id: int,
    thing_code: str,
    draft_public_id: str | None,
    booking: AssistBooking | None = None,
) -> AssistSession:
    """A place in the queue, committed; asking twice gives the open session back."""
    now = clock.now()
    session = AssistSession(
        public_id=secrets.token_urlsafe(16),
        citizen_id=citizen_id,
        open_for=citizen_id,
        thing_code=thing_code,
        draft_public_id=draft_public_id,
        booking_id=booking.id if booking else None,
        priority=0 if booking else 1,
        status="waiting",
        queued_at=now,
        notes={},
    )
    db.add(session)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        found = await open_session_of(db, citizen_id)
        assert found is not None
        return found
    if booking is not None:
        booking.status, booking.active_key = "joined", None
    await db.commit()
    return session


async def open_session_of(db: AsyncSession, citizen_id: int) -> AssistSession | None:
    found: AssistSession | None = await db.scalar(
        select(AssistSession).where(AssistSession.open_for == citizen_id)
    )
    return found


@dataclass(frozen=True)
class Place:
    position: int  # 1 = next
    minutes: int  # estimated wait


async def place_in_queue(db: AsyncSession, session: AssistSession) -> Place:
    ahead = await db.scalar(
        select(func.count())
        .select_from(AssistSession)
        .where(
            AssistSession.status == "waiting",
            (AssistSession.priority < session.priority)
            | (
                (AssistSession.priority == session.priority)
                & (
                    (AssistSession.queued_at < session.queued_at)
                    | (
                        (AssistSession.queued_at == session.queued_at)
                        & (AssistSession.id < session.id)
                    )
                )
            ),
        )
    )
    position = int(ahead or 0) + 1
    minutes = await _average_minutes(db)
    serving = await _assistants_at_work(db)
    return Place(position, math.ceil(position * minutes / max(1, serving)))


async def _average_minutes(db: AsyncSession) -> float:
    """How long recent calls took (the last 50 ended ones)."""
    rows = await db.execute(
        select(AssistSession.started_at, AssistSession.ended_at)
        .where(AssistSession.started_at.is_not(None), AssistSession.ended_at.is_not(None))
        .order_by(AssistSession.ended_at.desc())
        .limit(50)
    )
    spans = [
        (clock.aware(end) - clock.aware(start)).total_seconds() / 60
        for start, end in rows.all()
        if start and end
    ]
    return max(1.0, sum(spans) / len(spans)) if spans else DEFAULT_MINUTES


async def _assistants_at_work(db: AsyncSession) -> int:
    """Assistants who took a call in the last hour."""
    count = await db.scalar(
        select(func.count(func.distinct(AssistSession.assistant_id))).where(
            AssistSession.started_at > clock.now() - timedelta(hours=1)
        )
    )
    return int(count or 0)


async def waiting(db: AsyncSession) -> list[AssistSession]:
    rows = await db.execute(
        select(AssistSession)
        .where(AssistSession.status == "waiting")
        .order_by(AssistSession.priority, AssistSession.queued_at, AssistSession.id)
    )
    return list(rows.scalars())


async def take(db: AsyncSession, assistant_id: int, public_id: str | None) -> AssistSession | None:
    """The assistant takes this waiting session (or the next one): a conditional UPDATE, so
    two assistants never take the same citizen. None when nobody is left to take."""
    candidates = (
        [s for s in await waiting(db) if s.public_id == public_id]
        if public_id
        else await waiting(db)
    )
    for candidate in candidates:
        taken = await db.execute(
            update(AssistSession)
            .where(AssistSession.id == candidate.id, AssistSession.status == "waiting")
            .values(assistant_id=assistant_id, status="active", started_at=clock.now())
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            await db.commit()
            await db.refresh(candidate)
            return candidate
    await db.rollback()
    return None


async def active_of(db: AsyncSession, assistant_id: int) -> list[AssistSession]:
    rows = await db.execute(
        select(AssistSession)
        .where(AssistSession.assistant_id == assistant_id, AssistSession.status == "active")
        .order_by(AssistSession.started_at)
    )
    return list(rows.scalars())


async def history(db: AsyncSession, person_id: int, as_assistant: bool) -> list[AssistSession]:
    column = AssistSession.assistant_id if as_assistant else AssistSession.citizen_id
    rows = await db.execute(
        select(AssistSession)
        .where(column == person_id, AssistSession.status == "ended")
        .order_by(AssistSession.queued_at.desc())
        .limit(30)
    )
    return list(rows.scalars())


async def end(
    db: AsyncSession,
    session: AssistSession,
    outcome: str,
    summary: str = "",
    next_steps: str = "",
) -> None:
    """Ends the call; consent and every pending proposal end with it."""
    now = clock.now()
    await cofill.end_consents(db, session)
    session.status, session.open_for, session.ended_at = "ended", None, now
    session.outcome = outcome
    session.notes = {**session.notes, "summary": summary, "next_steps": next_steps}
    await db.commit()


STALE_AFTER = timedelta(hours=4)


async def expire_waiting(db: AsyncSession) -> int:
    """Places in the queue older than four hours (the citizen closed the page and went
    away) end, so nobody takes an empty call and the person can ask again."""
    stale = await db.execute(
        select(AssistSession).where(
            AssistSession.status == "waiting",
            AssistSession.queued_at < clock.now() - STALE_AFTER,
        )
    )
    ended = 0
    for session in stale.scalars():
        await end(db, session, "expired")
        ended += 1
    return ended


def chat_problem(text: str) -> str | None:
    if not text.strip():
        return "chat_empty"
    if len(text) > MAX_CHAT:
        return "chat_too_long"
    return None


async def add_chat(db: AsyncSession, session: AssistSession, role: str, text: str) -> AssistMessage:
    message = AssistMessage(
        session_id=session.id, sender_role=role, body={"text": text.strip()}, sent_at=clock.now()
    )
    db.add(message)
    await db.commit()
    return message


async def chat_of(db: AsyncSession, session: AssistSession) -> list[AssistMessage]:
    rows = await db.execute(
        select(AssistMessage)
        .where(AssistMessage.session_id == session.id)
        .order_by(AssistMessage.id)
    )
    return list(rows.scalars())


def duration_minutes(session: AssistSession) -> int | None:
    if session.started_at is None or session.ended_at is None:
        return None
    span = clock.aware(session.ended_at) - clock.aware(session.started_at)
    return max(1, math.ceil(span.total_seconds() / 60))
