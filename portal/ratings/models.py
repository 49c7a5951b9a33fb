"""Tables: one row per rating. ``item_key`` is empty for the whole application; the unique
constraint makes 一事一评 hold even when two requests race. ``state``, ``sequence`` and
``followup`` are the platform's (its rating stream, applied by the sequence rule); the dates
kept beside them are what the public figures count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base
from portal.sealed import SealedJSON


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("application_id", "item_key", "rater_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    item_key: Mapped[str] = mapped_column(String(64))  # "" = the whole application
    thing_code: Mapped[str] = mapped_column(String(64), index=True)
    department: Mapped[str] = mapped_column(String(64), index=True)  # "" for the whole
    rater_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    level: Mapped[int] = mapped_column(Integer)
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Free text may name people or numbers: sealed at rest like every typed value.
    comment: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    relay_status: Mapped[str] = mapped_column(String(12), default="pending")
    relay_error: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24), default="submitted")
    sequence: Mapped[int] = mapped_column(Integer, default=-1)
    followup: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    followed_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rectified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fix_level: Mapped[str | None] = mapped_column(String(24))
    fix_rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the portal last heard of it (created, an answer, an event, a check): reconciliation
    # reads the platform's copy of a bad rating that has been quiet too long.
    heard_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
