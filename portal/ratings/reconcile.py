"""Reconciliation of bad ratings (docs/intake-api.md §10): a bad rating whose follow-up is
still awaited and that the portal has not heard of for a day is read back from the platform
(``GET …/ratings/{id}``) and applied by the sequence rule, so a lost ``rating.*`` webhook
never leaves the citizen without the follow-up. Gentle: at most ``rate`` reads a second."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.intake.client import Accepted, IntakeApi, Permanent
from portal import clock
from portal.applications import progress
from portal.applications.models import Application
from portal.ratings import followup
from portal.ratings.levels import BAD
from portal.ratings.models import Rating

log = logging.getLogger(__name__)

QUIET = timedelta(hours=24)
# Nothing more will come from the platform without the person acting first.
WAITING_ON_NOBODY = frozenset({"rectified", "closed", *followup.SETTLED})


async def stale(db: AsyncSession, limit: int) -> list[int]:
    rows = await db.execute(
        select(Rating.id)
        .where(
            Rating.level.in_(BAD),
            Rating.relay_status == "relayed",
            Rating.state.not_in(WAITING_ON_NOBODY),
            Rating.heard_at < clock.now() - QUIET,
        )
        .order_by(Rating.heard_at)
        .limit(limit)
    )
    return list(rows.scalars())


async def reconcile(
    sessionmaker: async_sessionmaker[AsyncSession],
    api: IntakeApi,
    ids: list[int] | None = None,
    *,
    limit: int = 100,
    rate: float = 5.0,
) -> int:
    """Checks ``ids`` (default: the stale ones); returns how many changed."""
    async with sessionmaker() as db:
        ids = ids if ids is not None else await stale(db, limit)
    changed = 0
    for rating_id in ids:
        async with sessionmaker() as db:
            found = (
                await db.execute(
                    select(Rating.public_id, Application.public_id)
                    .join(Application, Application.id == Rating.application_id)
                    .where(Rating.id == rating_id)
                )
            ).first()
        if found is None:
            continue
        outcome = await api.read_rating(found[1], found[0])
        async with sessionmaker() as db:
            rating = await db.scalar(select(Rating).where(Rating.id == rating_id).with_for_update())
            if rating is None:
                continue
            if isinstance(outcome, Accepted):
                if await followup.take(db, rating, outcome.application):
                    changed += 1
                    application = await db.get(Application, rating.application_id)
                    if application is not None:
                        item = rating.item_key or None
                        progress.record(db, application, "portal.reconciled", item_key=item)
                rating.heard_at = clock.now()  # checked: quiet for another day
            elif isinstance(outcome, Permanent):
                log.error("rating reconciliation: %s", outcome.reason)
            await db.commit()
        await asyncio.sleep(1 / rate)
    return changed
