"""The assisted part of a draft's history, for the application flow: the citizen's own
edits while a draft is shared are attributed to them, and at submission each assisted
session becomes one line of the application's timeline (the per-field detail stays in
``draft_changes``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.applications import progress
from portal.applications.models import Application, Draft
from portal.assist.models import AssistConsent, AssistSession, DraftChange

FILLED = ("accepted", "entered")


async def citizen_edits(
    db: AsyncSession, draft: Draft, person_id: int, before: dict[str, Any]
) -> None:
    """While the draft is shared in a live session, what the citizen changed themselves is
    written to the audit trail beside the assistant's proposals (added to ``db``)."""
    changed = sorted(k for k, v in draft.values.items() if _blank(before.get(k)) != _blank(v))
    if not changed:
        return
    session = await db.scalar(
        select(AssistSession)
        .join(AssistConsent, AssistConsent.session_id == AssistSession.id)
        .where(
            AssistConsent.draft_public_id == draft.public_id,
            AssistConsent.revoked_at.is_(None),
            AssistSession.status == "active",
        )
    )
    if session is None:
        return
    for key in changed:
        db.add(
            DraftChange(
                draft_public_id=draft.public_id,
                session_id=session.id,
                person_id=person_id,
                role="citizen",
                action="typed",
                field_key=key,
                at=clock.now(),
            )
        )


def _blank(value: Any) -> Any:
    """An untouched field is blank however it was saved ("", [], an address of blanks)."""
    if isinstance(value, dict) and not any(value.values()):
        return None
    return value or None


async def record_on_submit(db: AsyncSession, application: Application) -> None:
    """One timeline line per session in which an assistant helped fill this draft."""
    rows = await db.execute(
        select(DraftChange, AssistSession.public_id)
        .join(AssistSession, AssistSession.id == DraftChange.session_id)
        .where(DraftChange.draft_public_id == application.draft_public_id)
        .order_by(DraftChange.id)
    )
    sessions: dict[str, list[DraftChange]] = defaultdict(list)
    for change, public_id in rows.all():
        sessions[public_id].append(change)
    for public_id, changes in sessions.items():
        filled = [c for c in changes if c.action in FILLED]
        progress.record(
            db,
            application,
            "portal.assisted",
            occurred_at=changes[-1].at,
            data={
                "session": public_id,
                "accepted": sum(c.action == "accepted" for c in filled),
                "entered": sum(c.action == "entered" for c in filled),
                "fields": sorted({c.field_key for c in filled if c.field_key}),
            },
        )
