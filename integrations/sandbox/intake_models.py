"""What the sandbox intake platform holds: its clients, and each application with its items
and notices, in the JSON shapes of docs/intake-api.yaml (``Application``, ``ItemStatus``,
``Notice``). Every member is always present; what does not apply yet is null or empty.

Records are mutated only under ``ApplicationRecord.lock``, and only by the transitions in
``intake_events`` (which bump the sequences), so an answer never shows half a change.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.sandbox.intake_time import Deadline, iso
from portal.catalog.schema import Item, OneThing

Json = dict[str, Any]

ITEM_TERMINAL = frozenset({"delivered", "not_accepted", "refused", "withdrawn", "closed"})
WITHDRAWABLE = frozenset({"submitted", "dispatched", "supplement_requested", "accepted"})
HAS_RESULT = frozenset({"result_issued", "delivered"})
APPLICATION_TERMINAL = frozenset({"concluded", "withdrawn", "closed"})


@dataclass(frozen=True)
class IntakeClient:
    """A client onboarded to the platform. Webhooks are signed with every secret in
    ``webhook_secrets`` (several during a rotation); ``one_things`` None means all."""

    client_id: str
    client_secret: str
    webhook_url: str
    webhook_secrets: tuple[str, ...]
    one_things: frozenset[str] | None = None

    def enabled_for(self, code: str) -> bool:
        return self.one_things is None or code in self.one_things


@dataclass
class Entry:
    """One field or material of a notice, with why and for which items."""

    key: str
    reason: Json
    items: list[str]
    requirements: str | None = None
    answered_at: datetime | None = None

    def to_json(self, *, material: bool) -> Json:
        body: Json = {"key": self.key, "reason": self.reason}
        if material:
            body["requirements"] = self.requirements
        return body | {"items": list(self.items), "answered_at": iso(self.answered_at)}


@dataclass
class Notice:
    notice_id: str
    kind: str  # supplement | tolerated
    stage: str  # intake_review | acceptance_review
    issued_at: datetime
    issued_by: str
    summary: str
    items: list[str]
    fields: list[Entry]
    materials: list[Entry]
    deadline: Deadline
    status: str = "open"
    answered_at: datetime | None = None

    def to_json(self) -> Json:
        return {
            "notice_id": self.notice_id,
            "kind": self.kind,
            "stage": self.stage,
            "status": self.status,
            "issued_at": iso(self.issued_at),
            "issued_by": self.issued_by,
            "summary": self.summary,
            "items": list(self.items),
            "fields": [entry.to_json(material=False) for entry in self.fields],
            "materials": [entry.to_json(material=True) for entry in self.materials],
            "deadline": self.deadline.to_json(),
            "answered_at": iso(self.answered_at),
        }


@dataclass
class OwedMaterial:
    material_key: str
    notice_id: str
    due_at: datetime | None = None
    received_at: datetime | None = None

    def to_json(self) -> Json:
        return {
            "material_key": self.material_key,
            "notice_id": self.notice_id,
            "due_at": iso(self.due_at),
            "received_at": iso(self.received_at),
        }


@dataclass
class ItemRecord:
    key: str
    name: str
    implementation_code: str
    department: str
    department_name: str
    promised_days: int
    requires: list[str]
    updated_at: datetime
    state: str = "submitted"
    sequence: int = 0
    deadline: Deadline | None = None
    acceptance: Json | None = None
    decision: Json | None = None
    result: Json | None = None
    delivery: Json | None = None
    withdrawal: Json | None = None
    owed: list[OwedMaterial] = field(default_factory=list)

    def to_json(self) -> Json:
        return {
            "item_key": self.key,
            "name": self.name,
            "implementation_code": self.implementation_code,
            "department": self.department,
            "department_name": self.department_name,
            "promised_working_days": self.promised_days,
            "requires": list(self.requires),
            "state": self.state,
            "sequence": self.sequence,
            "updated_at": iso(self.updated_at),
            "deadline": self.deadline.to_json() if self.deadline else None,
            "acceptance": self.acceptance,
            "decision": self.decision,
            "result": self.result,
            "delivery": self.delivery,
            "withdrawal": self.withdrawal,
            "owed_materials": [owed.to_json() for owed in self.owed],
        }


@dataclass
class ApplicationRecord:
    """One submitted application. ``request`` is the submission as sent; ``form`` and
    ``materials`` start as its values and take every supplement."""

    client_id: str
    thing: OneThing
    request: Json
    items: dict[str, ItemRecord]
    created_at: datetime
    deadline: Deadline | None
    scenario: str = "approve"
    state: str = "under_review"
    sequence: int = 0
    receipt_number: str | None = None
    received_at: datetime | None = None
    concluded_at: datetime | None = None
    notices: list[Notice] = field(default_factory=list)
    form: Json = field(default_factory=dict)
    materials: Json = field(default_factory=dict)
    scenarios_done: set[str] = field(default_factory=set)
    verified_files: set[tuple[str, str]] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        self.form = dict(self.request["form"])
        self.materials = dict(self.request["materials"])
        self.updated_at = self.updated_at or self.created_at

    @property
    def application_id(self) -> str:
        return str(self.request["application_id"])

    def notify(self) -> None:
        """Wake every department waiting for something in this application to change."""
        self.changed.set()
        self.changed = asyncio.Event()

    def config(self, item_key: str) -> Item:
        """The item's configuration (the catalog's ``Item``)."""
        return next(item for item in self.thing.items if item.key == item_key)

    def open_items(self) -> list[Item]:
        """The configuration of every item applied for and not ended (withdrawn …), in the
        one-thing's order."""
        return [
            item
            for item in self.thing.items
            if item.key in self.items and self.items[item.key].state not in ITEM_TERMINAL
        ]

    def notice(self, notice_id: str) -> Notice | None:
        return next((n for n in self.notices if n.notice_id == notice_id), None)

    def to_json(self) -> Json:
        return {
            "application_id": self.application_id,
            "submission_number": self.request.get("submission_number"),
            "one_thing": self.thing.code,
            "receipt_number": self.receipt_number,
            "state": self.state,
            "sequence": self.sequence,
            "submitted_at": self.request["submitted_at"],
            "created_at": iso(self.created_at),
            "received_at": iso(self.received_at),
            "concluded_at": iso(self.concluded_at),
            "updated_at": iso(self.updated_at),
            "deadline": self.deadline.to_json() if self.deadline else None,
            "delivery": self.request["delivery"],
            "notices": [notice.to_json() for notice in self.notices],
            "items": [item.to_json() for item in self.items.values()],
        }
