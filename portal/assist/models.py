"""Tables of the assisted service: published slots, bookings, sessions (a queue entry is a
waiting session), consent grants, co-fill proposals, chat lines and the draft's audit trail.

No audio or video is ever stored: a session row says who, when, how long and the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.sealed import SealedJSON


class AssistSlot(Base):
    """One bookable time of a one-thing, from the published schedule; ``booked`` only ever
    changes by a conditional UPDATE, so concurrent bookings never exceed ``capacity``."""

    __tablename__ = "assist_slots"
    __table_args__ = (UniqueConstraint("thing_code", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thing_code: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class AssistBooking(Base):
    __tablename__ = "assist_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("assist_slots.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    thing_code: Mapped[str] = mapped_column(String(64))
    # "person:thing" while the booking is live, NULL after: one live booking per one-thing.
    active_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    draft_public_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="booked")  # booked|cancelled|joined
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssistSession(Base):
    """A call between a citizen and an assistant. ``waiting`` is a place in the queue (ordered
    by ``priority`` then ``queued_at``); an assistant takes it (``active``); it ends."""

    __tablename__ = "assist_sessions"
    __table_args__ = (Index("ix_assist_sessions_queue", "status", "priority", "queued_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    assistant_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    thing_code: Mapped[str] = mapped_column(String(64))
    # The citizen's id while waiting or active, NULL once ended: one open session each.
    open_for: Mapped[int | None] = mapped_column(Integer, unique=True)
    draft_public_id: Mapped[str | None] = mapped_column(String(32))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("assist_bookings.id"))
    priority: Mapped[int] = mapped_column(SmallInteger, default=1)  # 0 booked, 1 walk-in
    status: Mapped[str] = mapped_column(String(12), default="waiting")  # waiting|active|ended
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20))
    # What the assistant writes: notes during the call, a summary and next steps after it.
    notes: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    callback_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    media: Mapped[str | None] = mapped_column(String(12))  # video|audio|chat, as the page said
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssistConsent(Base):
    """The citizen lets this session's assistant see one draft (``view``: proposals only) or
    also enter values (``direct``, 代办). Revoking ends every access at once."""

    __tablename__ = "assist_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("assist_sessions.id", ondelete="CASCADE"), index=True
    )
    draft_public_id: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(8))  # view | direct
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CoFillProposal(Base):
    __tablename__ = "assist_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("assist_sessions.id", ondelete="CASCADE"), index=True
    )
    draft_public_id: Mapped[str] = mapped_column(String(32))
    field_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[dict[str, Any]] = mapped_column(SealedJSON)  # {"v": the checked value}
    status: Mapped[str] = mapped_column(String(10), default="pending")
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssistMessage(Base):
    """A chat line (text only), sealed: people type phone numbers and ID numbers in chats."""

    __tablename__ = "assist_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("assist_sessions.id", ondelete="CASCADE"), index=True
    )
    sender_role: Mapped[str] = mapped_column(String(10))  # citizen | assistant
    body: Mapped[dict[str, Any]] = mapped_column(SealedJSON)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DraftChange(Base):
    """The draft's audit trail of assisted work: who (citizen or assistant) did what to which
    field, in which session. Values are not copied here: the draft holds them, sealed."""

    __tablename__ = "draft_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_public_id: Mapped[str] = mapped_column(String(32), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("assist_sessions.id", ondelete="SET NULL")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role: Mapped[str] = mapped_column(String(10))  # citizen | assistant
    action: Mapped[str] = mapped_column(String(24))
    field_key: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(Text)
