"""``rating.*`` webhooks (docs/intake-api.md §8): the follow-up of a bad rating. Applied by the
sequence rule, a line on the application's timeline, and one text when the rectification is
reported done, inviting the citizen to rate it (the only reminder: no nagging)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from portal.applications import progress
from portal.applications.models import Application
from portal.notifications import services as notifications
from portal.ratings import followup
from portal.web import appstate

FIX_TEMPLATE = "YJS_RECTIFIED"


async def receive(request: Request, db: AsyncSession, kind: str, data: dict[str, Any]) -> str:
    """Applies the event in ``db``'s transaction; the caller commits. Returns the outcome."""
    rating, applied = await followup.apply_event(db, data)
    if rating is None:
        return "unknown"
    application = await db.get(Application, rating.application_id)
    if application is None:
        return "unknown"
    progress.record(
        db,
        application,
        kind,
        item_key=rating.item_key or None,
        occurred_at=progress.moment(data.get("occurred_at")),
        data={"rating": rating.public_id},
    )
    if applied and kind == "rating.rectified":
        thing = appstate.catalog(request).get(application.thing_code)
        name = thing.name.zh_Hans if thing else application.thing_code
        message = notifications.Message(FIX_TEMPLATE, {"thing": _short(name)})
        link = f"/applications/{application.public_id}"
        await notifications.plan(db, appstate.cipher(request), application, message, kind, link)
    return "applied" if applied else "stale"


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
