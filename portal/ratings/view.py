"""What the application page shows of ratings: what this person may rate or has rated, each
bad rating's follow-up steps in order, its rectification deadline in working days."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.actor import Actor
from portal.applications.models import Application, ApplicationItem
from portal.catalog.schema import OneThing
from portal.ratings import followup, services
from portal.ratings.levels import BAD
from portal.ratings.models import Rating

if TYPE_CHECKING:
    from portal.applications.progress_read import ApplicationRow, ItemRow, RatingRow


@dataclass(frozen=True)
class Shown:
    target: services.Target
    steps: list[dict[str, Any]]
    deadline: followup.RectifyDeadline | None
    may_rate_fix: bool

    @property
    def following_up(self) -> bool:
        """A bad rating still waiting for the platform's next step: the page keeps refreshing
        (not once it is rectified: then the person is the one to act)."""
        rating = self.target.rating
        return (
            rating is not None
            and rating.level in BAD
            and rating.relay_status != "failed"
            and rating.state not in {"rectified", "closed", *followup.SETTLED}
        )


async def section(
    db: AsyncSession,
    application: Application,
    thing: OneThing,
    actor: Actor,
    now: datetime | None = None,
    item_rows: list[ApplicationItem] | None = None,
) -> dict[str, Any]:
    """``item_rows``: the application's items in id order, when the caller read them already."""
    if item_rows is None:
        rows = await db.execute(
            select(ApplicationItem)
            .where(ApplicationItem.application_id == application.id)
            .order_by(ApplicationItem.id)
        )
        item_rows = list(rows.scalars())
    mine = await services.ratings_by(db, application, actor.person_id)
    return shown_of(application, thing, item_rows, mine, now)


def shown_of(
    application: Application | ApplicationRow,
    thing: OneThing,
    item_rows: Sequence[ApplicationItem | ItemRow],
    mine: Sequence[Rating | RatingRow],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The section from rows already read (this rater's ratings in id order)."""
    shown = [
        Shown(
            target,
            followup.steps(target.rating) if target.rating else [],
            followup.deadline(target.rating, now) if target.rating else None,
            bool(target.rating and services.may_rate_fix(target.rating)),
        )
        for target in services.targets(application, thing, item_rows, mine)
    ]
    return {
        "ratings": [s for s in shown if s.target.open or s.target.rating],
        "ratings_live": any(s.following_up for s in shown),
    }
