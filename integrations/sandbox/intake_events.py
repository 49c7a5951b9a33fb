"""Changes and the events that announce them (docs/intake-api.md §6.1, §8): every change
moves exactly one stream up by one and is announced by exactly one event.

``move`` changes one item (its sequence + 1); ``announce_item`` sends the ``item.*`` event
of the change just made; ``announce`` moves the application stream (+ 1) and sends the
``application.*`` event carrying the items it changed. Callers hold the application's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from integrations.sandbox.intake_models import ApplicationRecord, ItemRecord, Json, Notice
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import iso


def move(
    application: ApplicationRecord, item: ItemRecord, state: str, at: datetime, **members: Any
) -> ItemRecord:
    """``item`` in ``state`` (the same one for a change of its members only), sequence + 1."""
    for name, value in members.items():
        if not hasattr(item, name):
            raise AttributeError(name)
        setattr(item, name, value)
    item.state, item.sequence, item.updated_at = state, item.sequence + 1, at
    application.updated_at = at
    return item


def announce_item(
    store: IntakeStore, application: ApplicationRecord, item: ItemRecord, event_type: str
) -> None:
    data = {
        "application_id": application.application_id,
        "one_thing": application.thing.code,
        "receipt_number": application.receipt_number,
        "occurred_at": iso(item.updated_at),
    }
    store.emit(application, event_type, data | item.to_json())
    application.notify()


def announce(
    store: IntakeStore,
    application: ApplicationRecord,
    event_type: str,
    at: datetime,
    *,
    items: Sequence[ItemRecord] = (),
    notice: Notice | None = None,
    withdrawal: Json | None = None,
    closure: Json | None = None,
) -> None:
    application.sequence += 1
    application.updated_at = at
    data = {
        "application_id": application.application_id,
        "one_thing": application.thing.code,
        "receipt_number": application.receipt_number,
        "sequence": application.sequence,
        "occurred_at": iso(at),
        "state": application.state,
        "deadline": application.deadline.to_json() if application.deadline else None,
        "notice": notice.to_json() if notice else None,
        "withdrawal": withdrawal,
        "closure": closure,
        "items": [item.to_json() for item in items],
    }
    store.emit(application, event_type, data)
    application.notify()


def reason(code: str, message: str, basis: str | None = None) -> Json:
    return {"code": code, "message": message, "basis": basis}
