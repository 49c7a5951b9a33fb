"""授权用证: the holder lets a named organisation (name + USCC) use chosen licenses for a
stated reason until a day; the organisation opens a capability link (only its hash is
stored; the link itself sealed, so the holder can show it again) to annotated copies.
Revocation and expiry are checked on every request to the link, so they hold at once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from auth.crypto import PersonalDataCipher
from portal import clock
from portal.wallet.access import Owner
from portal.wallet.models import UseGrant

LINK_PURPOSE = "wallet.grant_link"
MAX_DAYS = 365
MAX_LICENSES = 20


@dataclass(frozen=True)
class GrantForm:
    org_name: str
    org_uscc: str
    reason: str
    valid_until: str
    license_ids: tuple[str, ...]


def normalised_uscc(value: str) -> str:
    return value.replace(" ", "").upper()


def validate(form: GrantForm, available: set[str], day: date) -> dict[str, str]:
    """Problem codes by field; ``available`` are the license ids of the chosen wallet."""
    problems: dict[str, str] = {}
    if not form.org_name.strip() or len(form.org_name.strip()) > 200:
        problems["org_name"] = "org_name"
    try:
        uscc.validate(normalised_uscc(form.org_uscc))
    except InvalidChecksum:
        problems["org_uscc"] = "uscc_check"
    except ValidationError:
        problems["org_uscc"] = "uscc"
    if not form.reason.strip() or len(form.reason.strip()) > 200:
        problems["reason"] = "reason"
    try:
        until = date.fromisoformat(form.valid_until)
    except ValueError:
        problems["valid_until"] = "date"
    else:
        if until < day:
            problems["valid_until"] = "date_past"
        elif until > day + timedelta(days=MAX_DAYS):
            problems["valid_until"] = "date_far"
    chosen = set(form.license_ids)
    if not chosen or len(chosen) > MAX_LICENSES or not chosen <= available:
        problems["license_ids"] = "licenses"
    return problems


def end_of(day: date) -> datetime:
    """A grant holds through its last day, China time."""
    return datetime.combine(day, time.max, tzinfo=clock.CHINA)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    owner: Owner,
    person_id: int,
    form: GrantForm,
    licenses: Sequence[dict[str, str]],
) -> tuple[UseGrant, str]:
    token = secrets.token_urlsafe(24)
    grant = UseGrant(
        kind="org",
        token_hash=token_hash(token),
        link_encrypted=cipher.encrypt(token, LINK_PURPOSE),
        subject_kind=owner.kind,
        subject_id=owner.id,
        granted_by_id=person_id,
        org_name=form.org_name.strip(),
        org_uscc=normalised_uscc(form.org_uscc),
        reason=form.reason.strip(),
        licenses=list(licenses),
        created_at=clock.now(),
        valid_until=end_of(date.fromisoformat(form.valid_until)),
    )
    db.add(grant)
    await db.flush()
    return grant, token


def state(grant: UseGrant, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired``."""
    if grant.revoked_at is not None:
        return "revoked"
    if (now or clock.now()) > clock.aware(grant.valid_until):
        return "expired"
    return "active"


def link_token(cipher: PersonalDataCipher, grant: UseGrant) -> str | None:
    if grant.link_encrypted is None:
        return None
    return cipher.decrypt(grant.link_encrypted, LINK_PURPOSE)


async def by_token(db: AsyncSession, token: str) -> UseGrant | None:
    found: UseGrant | None = await db.scalar(
        select(UseGrant).where(UseGrant.token_hash == token_hash(token), UseGrant.kind == "org")
    )
    return found


async def of_owners(db: AsyncSession, owners: Sequence[Owner]) -> list[UseGrant]:
    if not owners:
        return []
    mine = [(UseGrant.subject_kind == o.kind) & (UseGrant.subject_id == o.id) for o in owners]
    rows = await db.scalars(
        select(UseGrant).where(or_(*mine)).order_by(UseGrant.created_at.desc(), UseGrant.id.desc())
    )
    return list(rows)


async def owned(db: AsyncSession, owners: Sequence[Owner], grant_id: int) -> UseGrant | None:
    """The grant if it belongs to one of these wallets (else None: not found, for anyone)."""
    grant = await db.get(UseGrant, grant_id)
    if grant is None:
        return None
    keys = {owner.key for owner in owners}
    return grant if f"{grant.subject_kind}:{grant.subject_id}" in keys else None


def revoke(grant: UseGrant) -> bool:
    if grant.kind != "org" or grant.revoked_at is not None:
        return False
    grant.revoked_at = clock.now()
    return True
