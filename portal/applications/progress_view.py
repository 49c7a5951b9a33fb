"""What the progress page shows, computed from what the platform said: each item's state,
its deadline in working days (days left, overdue), the open notices, the timeline.

Deadlines are the platform's ``due_at`` (authoritative, docs/intake-api.md §2); the portal
only counts the working days left to it with the Chinese calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal import clock, workdays
from portal.applications import progress
from portal.applications.models import Application, ApplicationEvent, ApplicationItem
from portal.catalog.schema import Item, OneThing

if TYPE_CHECKING:
    from portal.applications.progress_read import ApplicationRow, EventRow, ItemRow

    Event = ApplicationEvent | EventRow

# Items and applications a person can still withdraw (§4 Withdraw).
WITHDRAWABLE = frozenset({"submitted", "dispatched", "supplement_requested", "accepted"})
DONE = frozenset({"result_issued", "delivered"})


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    party: str  # authority | applicant
    days_left: int  # working days from today to the due day; negative when past
    overdue: bool


@dataclass(frozen=True)
class ItemView:
    key: str
    item: Item | None
    state: str
    deadline: Deadline | None
    snapshot: dict[str, Any]

    @property
    def withdrawable(self) -> bool:
        return self.state in WITHDRAWABLE

    @property
    def license_identifier(self) -> str | None:
        result = self.snapshot.get("result") or {}
        return (result.get("license") or {}).get("identifier")


def deadline_of(raw: Any, now: datetime | None = None) -> Deadline | None:
    if not isinstance(raw, dict):
        return None
    due = progress.moment(raw.get("due_at"))
    if due is None:
        return None
    now = clock.china(now or clock.now())
    due = clock.china(due)
    return Deadline(
        due_at=due,
        party=str(raw.get("party") or "authority"),
        days_left=workdays.working_days_between(now.date(), due.date()),
        overdue=due < now,
    )


def items(
    thing: OneThing, rows: Sequence[ApplicationItem | ItemRow], now: datetime | None = None
) -> list[ItemView]:
    by_key = {item.key: item for item in thing.items}
    return [
        ItemView(
            key=row.item_key,
            item=by_key.get(row.item_key),
            state=row.status,
            deadline=deadline_of(row.snapshot.get("deadline"), now)
            if row.status not in progress.TERMINAL_ITEM
            else None,
            snapshot=row.snapshot,
        )
        for row in rows
    ]


def open_notices(application: Application | ApplicationRow) -> list[dict[str, Any]]:
    return [n for n in application.platform.get("notices", []) if n.get("status") == "open"]


def supplement_notice(application: Application | ApplicationRow) -> dict[str, Any] | None:
    """The open 一次告知 the person answers in the portal (a ``supplement`` notice)."""
    return next((n for n in open_notices(application) if n.get("kind") == "supplement"), None)


def timeline(events: Sequence[Event]) -> list[Event]:
    """Newest first, by when it happened (webhooks arrive in any order)."""
    return sorted(events, key=lambda e: (clock.aware(e.occurred_at), e.id), reverse=True)


def finished(application: Application | ApplicationRow) -> bool:
    return application.status in progress.TERMINAL_APPLICATION


def can_withdraw(application: Application | ApplicationRow, views: list[ItemView]) -> bool:
    return (
        application.relay_status == "relayed"
        and not finished(application)
        and any(v.withdrawable for v in views)
    )
