"""亮证 and 扫码核验: issue a short-lived signed token for a license the holder shows, and
check one that was scanned. Outcomes are distinct: ``tampered`` (bad signature or unknown
token), ``revoked`` (the holder withdrew the code), ``expired``, ``license_invalid`` (the
library says the license itself is revoked, expired or unknown) and ``ok``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.licenses import License, LicenseLibrary, LicenseLibraryError, LicenseNotFound
from portal import clock
from portal.wallet import tokens, usage
from portal.wallet.models import VerificationToken
from portal.wallet.services import Found


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime
    issued_at: datetime


async def issue(
    db: AsyncSession,
    secret: str,
    minutes: int,
    person_id: int,
    found: Found,
    fields: tuple[str, ...],
) -> Issued:
    now = clock.now()
    token_id = tokens.new_token_id()
    # Whole seconds: the signed expiry and the stored one must agree exactly.
    expires = (now + timedelta(minutes=minutes)).replace(microsecond=0)
    db.add(
        VerificationToken(
            token_id=token_id,
            subject_kind=found.owner.kind,
            subject_id=found.owner.id,
            person_id=person_id,
            license_id=found.license.id,
            license_name=found.license.name,
            fields=list(fields),
            created_at=now,
            expires_at=expires,
        )
    )
    return Issued(tokens.sign(secret, token_id, expires), expires, now)


async def revoke_all(db: AsyncSession, owner_kind: str, owner_id: int, license_id: str) -> int:
    """Withdraw every code of this license still live (停止亮证)."""
    now = clock.now()
    result = await db.execute(
        update(VerificationToken)
        .where(
            VerificationToken.subject_kind == owner_kind,
            VerificationToken.subject_id == owner_id,
            VerificationToken.license_id == license_id,
            VerificationToken.revoked_at.is_(None),
            VerificationToken.expires_at > now,
        )
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Outcome:
    status: str  # ok | tampered | revoked | expired | license_invalid | unavailable
    license: License | None = None
    fields: tuple[str, ...] = field(default=())
    library_reason: str = ""
    expires_at: datetime | None = None


async def check(db: AsyncSession, lib: LicenseLibrary, secret: str, token: str) -> Outcome:
    signed = tokens.read(secret, token)
    if signed is None:
        return Outcome("tampered")
    record = await db.scalar(
        select(VerificationToken).where(VerificationToken.token_id == signed.token_id)
    )
    if record is None or clock.aware(record.expires_at) != signed.expires_at:
        return Outcome("tampered")
    if record.revoked_at is not None:
        return Outcome("revoked")
    if clock.now() >= signed.expires_at:
        return Outcome("expired", expires_at=signed.expires_at)
    try:
        license = await lib.get(record.license_id)
        verdict = await lib.verify(license.identifier)
    except LicenseNotFound:
        return Outcome("license_invalid", None, (), "unknown", signed.expires_at)
    except LicenseLibraryError:
        return Outcome("unavailable")
    fields = tuple(record.fields)
    usage.record(
        db,
        subject_kind=record.subject_kind,
        subject_id=record.subject_id,
        license_id=record.license_id,
        license_name=record.license_name,
        action="verify",
    )
    if not verdict.valid:
        return Outcome("license_invalid", license, fields, verdict.reason, signed.expires_at)
    return Outcome("ok", license, fields, "ok", signed.expires_at)


KEEP_EXPIRED = timedelta(days=1)  # a scan just after expiry still says "expired", not "tampered"


async def prune(db: AsyncSession) -> int:
    """Forget codes expired more than a day ago (the periodic sweep calls this)."""
    result = await db.execute(
        delete(VerificationToken).where(VerificationToken.expires_at < clock.now() - KEEP_EXPIRED)
    )
    return int(getattr(result, "rowcount", 0) or 0)
