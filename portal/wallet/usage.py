"""The usage log (用证记录): every verification, view, download and use as a material, for
the holder to see (who, when, why)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.wallet.access import Owner
from portal.wallet.models import UsageEntry

ACTIONS = ("verify", "view", "download", "material")


def record(
    db: AsyncSession,
    *,
    subject_kind: str,
    subject_id: int,
    license_id: str,
    license_name: str,
    action: str,
    who: str = "",
    reason: str = "",
    grant_id: int | None = None,
) -> UsageEntry:
    assert action in ACTIONS
    entry = UsageEntry(
        subject_kind=subject_kind,
        subject_id=subject_id,
        license_id=license_id,
        license_name=license_name,
        action=action,
        who=who[:240],
        reason=reason[:200],
        grant_id=grant_id,
        at=clock.now(),
    )
    db.add(entry)
    return entry


async def log_of(db: AsyncSession, owners: Sequence[Owner], limit: int = 200) -> list[UsageEntry]:
    """Newest first, for the wallets the actor may open."""
    if not owners:
        return []
    mine = [
        (UsageEntry.subject_kind == owner.kind) & (UsageEntry.subject_id == owner.id)
        for owner in owners
    ]
    rows = await db.scalars(
        select(UsageEntry)
        .where(or_(*mine))
        .order_by(UsageEntry.at.desc(), UsageEntry.id.desc())
        .limit(limit)
    )
    return list(rows)
