"""Tables: drafts, uploads, applications and their items, their timeline, and the outbox.

An application's ``status`` and each item's ``status`` are the platform's states (docs/intake-api.md
§6); ``sequence`` is the last applied sequence of each stream, so an older event arriving late
never overwrites a newer state (§7.6). ``relay_status`` says whether the portal has handed the
application over yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.sealed import SealedJSON


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    thing_code: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # What was typed and prefilled (ID numbers, bank accounts): sealed at rest.
    values: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    prefilled: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    materials: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Upload(Base):
    """A file a person uploaded as a material; stored outside the web root, owner-only."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    material_key: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("draft_public_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    submission_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    receipt_number: Mapped[str | None] = mapped_column(String(40), index=True)
    applicant_tail_hash: Mapped[str | None] = mapped_column(String(64))
    draft_public_id: Mapped[str] = mapped_column(String(32))
    thing_code: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    answers: Mapped[dict[str, str]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(SealedJSON)
    materials: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures: Mapped[dict[str, int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(24))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sequence: Mapped[int] = mapped_column(Integer, default=-1)
    platform: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    # The recipient's name, mobile number and address: sealed like the form values.
    delivery: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    relay_status: Mapped[str] = mapped_column(String(12), default="pending")
    relay_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ApplicationItem(Base):
    __tablename__ = "application_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    promised_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    sequence: Mapped[int] = mapped_column(Integer, default=-1)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApplicationEvent(Base):
    """One line of an application's timeline: a platform event, or something the portal did
    (relayed, supplement sent, notification sent)."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    sequence: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebhookMessage(Base):
    """``webhook-id``s already processed: a message delivered twice changes nothing."""

    __tablename__ = "webhook_messages"

    webhook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class OutboxMessage(Base):
    """A message to an outside system, written in the same transaction as the change it
    reports; the relay (portal/relay) delivers it, retrying with the same key and body.

    ``body`` is the exact request body, sealed (AES-GCM) because it carries ID numbers.
    ``state`` is pending → sent, or failed (a permanent error, or retries ran out).
    A claimed row's ``available_at`` is pushed out by a lease: a worker that dies mid-delivery
    leaves the row to be claimed again when the lease ends.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "available_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
