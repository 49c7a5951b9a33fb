"""Reconciliation (docs/intake-api.md §10): ``GET`` the applications whose state looks stale
and apply what the platform holds by the sequence rule. Gentle: at most ``rate`` reads a
second."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.intake.client import Accepted, IntakeApi, Permanent
from portal import clock
from portal.applications import progress
from portal.applications.models import Application, ApplicationItem
from portal.relay.handlers import locked_application

log = logging.getLogger(__name__)

QUIET = timedelta(hours=24)  # a live application with no news for this long is checked
GRACE = timedelta(minutes=15)  # a deadline this far past with no news is checked


async def stale(db: AsyncSession, limit: int) -> list[int]:
    now = clock.now()
    overdue_items = (
        select(ApplicationItem.application_id)
        .where(
            ApplicationItem.due_at < now - GRACE,
            ApplicationItem.status.not_in(progress.TERMINAL_ITEM),
        )
        .scalar_subquery()
    )
    rows = await db.execute(
        select(Application.id)
        .where(
            Application.relay_status == "relayed",
            Application.status.not_in(progress.TERMINAL_APPLICATION),
            or_(
                Application.updated_at < now - QUIET,
                Application.id.in_(overdue_items),
            ),
        )
        .order_by(Application.updated_at)
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
    for application_id in ids:
        async with sessionmaker() as db:
            public_id = await db.scalar(
                select(Application.public_id).where(Application.id == application_id)
            )
        if public_id is None:
            continue
        outcome = await api.read(public_id)
        async with sessionmaker() as db:
            application = await locked_application(db, application_id)
            if application is None:
                continue
            if isinstance(outcome, Accepted):
                applied = await progress.apply_snapshot(db, application, outcome.application)
                if applied.anything:
                    changed += 1
                    progress.record(db, application, "portal.reconciled")
                # Checked: quiet for another day unless news comes.
                application.updated_at = clock.now()
            elif isinstance(outcome, Permanent):
                log.error("reconciliation: %s", outcome.reason, extra={"application": public_id})
            await db.commit()
        await asyncio.sleep(1 / rate)
    return changed
