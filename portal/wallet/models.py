"""Tables of the wallet: verification tokens, grants of use, the usage log and reminders.

Licenses themselves are not copied: the library is their source of truth, and every page
reads it again, so a license revoked there is revoked here at once.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class VerificationToken(Base):
    """The server-side record of one QR code: what it discloses and whether it still holds.
    The token itself is signed and carries its expiry; this row makes it revocable."""

    __tablename__ = "wallet_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    license_id: Mapped[str] = mapped_column(String(200), index=True)
    license_name: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UseGrant(Base):
    """授权用证: the holder lets ``org_name`` use ``licenses`` for ``reason`` until
    ``valid_until``. ``kind`` is ``org`` (a link to annotated copies) or ``application``
    (licenses given as materials of an application, with the applicant's consent)."""

    __tablename__ = "wallet_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    org_name: Mapped[str] = mapped_column(String(200))
    org_uscc: Mapped[str] = mapped_column(String(18))
    reason: Mapped[str] = mapped_column(String(200))
    licenses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UsageEntry(Base):
    """One use of a license the holder is shown: who, when, why, and how."""

    __tablename__ = "wallet_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(12))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    license_id: Mapped[str] = mapped_column(String(200))
    license_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(12))  # verify | view | download | material
    who: Mapped[str] = mapped_column(String(240))
    reason: Mapped[str] = mapped_column(String(200))
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("wallet_grants.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ExpiryReminder(Base):
    """One reminder sent: the unique key makes the 30- and 7-day notices go out once each,
    whichever process sweeps first and however often it restarts."""

    __tablename__ = "wallet_reminders"
    __table_args__ = (UniqueConstraint("person_id", "identifier", "days"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(120))
    days: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
