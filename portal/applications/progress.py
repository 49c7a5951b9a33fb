"""Applying what the platform says about an application — a webhook event, a write's
answer, a ``GET`` — by the sequence rule of docs/intake-api.md §7.6: each stream (the
application, each item) takes a snapshot only when its sequence is higher than the one held,
so late, duplicated or shuffled messages converge on the platform's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.applications.models import Application, ApplicationEvent, ApplicationItem

APPLICATION_MEMBERS = (
    *("state", "receipt_number", "deadline", "received_at", "concluded_at"),
    *("withdrawal", "closure", "delivery"),
)
TERMINAL_APPLICATION = frozenset({"concluded", "withdrawn", "closed"})
TERMINAL_ITEM = frozenset({"delivered", "not_accepted", "refused", "withdrawn", "closed"})


@dataclass
class Applied:
    """What changed: the caller notifies on these (never on a stale or duplicate message)."""

    application: bool = False
    items: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return self.application or bool(self.items)


async def items_of(db: AsyncSession, application: Application) -> dict[str, ApplicationItem]:
    rows = await db.execute(
        select(ApplicationItem).where(ApplicationItem.application_id == application.id)
    )
    return {item.item_key: item for item in rows.scalars()}


async def apply_event(
    db: AsyncSession, application: Application, kind: str, data: Mapping[str, Any]
) -> Applied:
    applied = Applied()
    items = await items_of(db, application)
    if kind.startswith("application."):
        applied.application = _apply_application(application, data, replace_notices=False)
        for snapshot in data.get("items") or []:
            if _apply_item(items, snapshot):
                applied.items.append(snapshot["item_key"])
    elif kind.startswith("item.") and _apply_item(items, data):
        applied.items.append(data["item_key"])
    if applied.anything:
        application.updated_at = clock.now()
    return applied


async def apply_snapshot(
    db: AsyncSession, application: Application, snapshot: Mapping[str, Any]
) -> Applied:
    """A write's answer or a ``GET``: the whole application with every item."""
    return apply_snapshot_to(application, await items_of(db, application), snapshot)


def apply_snapshot_to(
    application: Application,
    items: Mapping[str, ApplicationItem],
    snapshot: Mapping[str, Any],
) -> Applied:
    """``apply_snapshot`` on an application and its items already loaded (the relay loads
    a whole batch's at once)."""
    applied = Applied()
    applied.application = _apply_application(application, snapshot, replace_notices=True)
    for item in snapshot.get("items") or []:
        if _apply_item(items, item):
            applied.items.append(item["item_key"])
    if applied.anything:
        application.updated_at = clock.now()
    return applied


def _apply_application(
    application: Application, data: Mapping[str, Any], *, replace_notices: bool
) -> bool:
    sequence = data.get("sequence")
    if not isinstance(sequence, int) or sequence <= application.sequence:
        _merge_notice(application, data.get("notice"))  # notices are kept as they come
        return False
    platform = dict(application.platform)
    for member in APPLICATION_MEMBERS:
        if member in data:
            platform[member] = data[member]
    if replace_notices and isinstance(data.get("notices"), list):
        platform["notices"] = data["notices"]
    application.platform = platform
    _merge_notice(application, data.get("notice"))
    application.status = str(data.get("state") or application.status)
    if data.get("receipt_number"):
        application.receipt_number = str(data["receipt_number"])
    application.sequence = sequence
    return True


def _merge_notice(application: Application, notice: Any) -> None:
    if not isinstance(notice, dict) or "notice_id" not in notice:
        return
    notices = [
        n
        for n in application.platform.get("notices", [])
        if n.get("notice_id") != notice["notice_id"]
    ]
    application.platform = {**application.platform, "notices": [*notices, notice]}


def _apply_item(items: Mapping[str, ApplicationItem], snapshot: Mapping[str, Any]) -> bool:
    item = items.get(str(snapshot.get("item_key")))
    sequence = snapshot.get("sequence")
    if item is None or not isinstance(sequence, int) or sequence <= item.sequence:
        return False
    item.snapshot = dict(snapshot)
    item.status = str(snapshot.get("state") or item.status)
    item.sequence = sequence
    deadline = snapshot.get("deadline") or {}
    item.due_at = moment(deadline.get("due_at")) if deadline.get("party") == "authority" else None
    return True


def record(
    db: AsyncSession,
    application: Application,
    kind: str,
    *,
    item_key: str | None = None,
    sequence: int | None = None,
    occurred_at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """One line of the timeline."""
    db.add(
        ApplicationEvent(
            application_id=application.id,
            item_key=item_key,
            kind=kind,
            sequence=sequence,
            occurred_at=occurred_at or clock.now(),
            data=dict(data or {}),
        )
    )


def moment(value: Any) -> datetime | None:
    """An RFC 3339 time from the platform, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
