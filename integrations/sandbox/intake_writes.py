"""Supplements and withdrawals received through the API (docs/intake-api.md §4, §6): the
business rules after the request's shape has passed, and the state changes they cause,
announced like any other (``application.supplemented``, ``application.withdrawn``).

Both run under the application's lock, so two writes to one application never interleave:
the second waits for the first. A refusal changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.sandbox.intake_counter import review
from integrations.sandbox.intake_departments import department, settle
from integrations.sandbox.intake_events import announce, move
from integrations.sandbox.intake_models import (
    APPLICATION_TERMINAL,
    ITEM_TERMINAL,
    WITHDRAWABLE,
    ApplicationRecord,
    ItemRecord,
    Json,
    Notice,
)
from integrations.sandbox.intake_shapes import Problems, pointer
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import days_deadline, iso, now, review_deadline


@dataclass(frozen=True)
class Refusal:
    """A 422: its problem type, the detail, and extension members (``errors`` …)."""

    kind: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)


def supplement(store: IntakeStore, application: ApplicationRecord, body: Json) -> Refusal | None:
    notice = application.notice(str(body["notice_id"]))
    if notice is None:
        errors = [{"pointer": "/notice_id", "code": "unknown", "detail": "No such notice here."}]
        return Refusal(
            "validation-failed", "The application has no such notice.", {"errors": errors}
        )
    if notice.status != "open":
        detail = f"Notice {notice.notice_id} is {notice.status}; it takes no further supplement."
        extensions = {"notice_id": notice.notice_id, "notice_status": notice.status}
        return Refusal("notice-not-open", detail, extensions)
    form, materials = body.get("form", {}), body.get("materials", {})
    if problems := _unanswered(notice, form, materials):
        detail = "The supplement must answer the notice's entries (一次告知, 一次补正)."
        return Refusal("validation-failed", detail, {"errors": problems})
    at = now()
    application.form.update(form)
    application.materials.update(materials)
    for entry in (*notice.fields, *notice.materials):
        if entry.key in form or entry.key in materials:
            entry.answered_at = at
    if all(entry.answered_at for entry in (*notice.fields, *notice.materials)):
        notice.status, notice.answered_at = "answered", at
    if notice.kind == "tolerated":
        changed = _owed_received(application, notice, materials, at)
    elif notice.stage == "intake_review":
        application.state, application.deadline = "under_review", review_deadline(at)
        changed = []
        store.spawn(review(store, application))
    else:
        deadline = days_deadline(at, 1, "authority")
        changed = [
            move(application, item, "dispatched", at, deadline=deadline)
            for item in _items(application, notice.items)
            if item.state == "supplement_requested"
        ]
        for item in changed:
            store.spawn(department(store, application, item))
    announce(store, application, "application.supplemented", at, items=changed, notice=notice)
    return None


def withdraw(store: IntakeStore, application: ApplicationRecord, body: Json) -> Refusal | None:
    named: list[str] | None = body.get("items")
    if named is not None and (unknown := [k for k in named if k not in application.items]):
        errors = [
            {"pointer": f"/items/{named.index(k)}", "code": "unknown_item", "detail": k}
            for k in unknown
        ]
        return Refusal("validation-failed", "No such items here.", {"errors": errors})
    if refusal := _not_withdrawable(application, named):
        return refusal
    remaining = [key for key, item in application.items.items() if item.state != "withdrawn"]
    targets = _items(application, remaining if named is None else named)
    at = now()
    text = body.get("reason")
    record = {"withdrawn_at": iso(at), "reason": text, "channel": "api"}
    for item in targets:
        move(application, item, "withdrawn", at, deadline=None, withdrawal=dict(record))
    if all(item.state == "withdrawn" for item in application.items.values()):
        application.state, application.concluded_at, application.deadline = "withdrawn", at, None
    cancelled = _cancel_notices(application)
    operator = body["requested_by"]
    info = {
        "scope": "application" if named is None else "items",
        "items": [item.key for item in targets],
        "reason": text,
        "requested_at": body["requested_at"],
        "requested_by": {"name": operator["name"], "role": operator["role"]},
        "channel": "api",
    }
    notice = cancelled[0] if cancelled else None
    announce(
        store,
        application,
        "application.withdrawn",
        at,
        items=targets,
        withdrawal=info,
        notice=notice,
    )
    settle(store, application)
    return None


def _unanswered(notice: Notice, form: Json, materials: Json) -> list[Json]:
    """Entries the supplement leaves out (``not_answered``) or adds (``not_requested``)."""
    p = Problems()
    asked_fields = {entry.key for entry in notice.fields if entry.answered_at is None}
    asked_materials = {entry.key for entry in notice.materials if entry.answered_at is None}
    for key in form:
        if key not in asked_fields:
            p.add(pointer("form", key), "not_requested", f"The notice does not ask for {key}.")
    for key in materials:
        if key not in asked_materials:
            p.add(pointer("materials", key), "not_requested", f"The notice does not ask for {key}.")
    if notice.kind == "tolerated":
        if not materials:
            p.add("/materials", "not_answered", "Provide at least one owed material.")
        return p.errors
    for key in sorted(asked_fields - set(form)):
        p.add(pointer("form", key), "not_answered", f"The notice asks for field {key}.")
    for key in sorted(asked_materials - set(materials)):
        p.add(pointer("materials", key), "not_answered", f"The notice asks for material {key}.")
    return p.errors


def _owed_received(
    application: ApplicationRecord, notice: Notice, materials: Json, at: Any
) -> list[ItemRecord]:
    """Owed materials now received: each open item that owed one changes (sequence + 1)."""
    changed = []
    for item in application.items.values():
        owed = [
            o for o in item.owed if o.notice_id == notice.notice_id and o.material_key in materials
        ]
        if owed and item.state not in ITEM_TERMINAL:
            for entry in owed:
                entry.received_at = at
            changed.append(move(application, item, item.state, at))
    return changed


def _not_withdrawable(application: ApplicationRecord, named: list[str] | None) -> Refusal | None:
    if application.state in APPLICATION_TERMINAL:
        detail = f"The application is {application.state}; nothing can be withdrawn."
        errors = [{"pointer": "/items", "code": "decided", "detail": detail}]
        return Refusal("not-withdrawable", detail, {"errors": errors})
    keys = (
        named
        if named is not None
        else [key for key, item in application.items.items() if item.state != "withdrawn"]
    )
    errors = [
        {
            "pointer": "/items" if named is None else f"/items/{n}",
            "code": "decided",
            "detail": f"{key} is {application.items[key].state}.",
        }
        for n, key in enumerate(keys)
        if application.items[key].state not in WITHDRAWABLE
    ]
    missing = [key for key in _dependants(application, keys) if key not in keys]
    if missing:
        detail = f"{', '.join(missing)} require(s) an item withdrawn here and is not decided."
        errors.append({"pointer": "/items", "code": "dependants_not_included", "detail": detail})
    if not errors:
        return None
    detail = "Withdrawal is possible only before a decision; nothing was withdrawn."
    return Refusal("not-withdrawable", detail, {"errors": errors})


def _dependants(application: ApplicationRecord, keys: list[str]) -> list[str]:
    """Undecided items requiring any of ``keys``, directly or through another."""
    found: list[str] = []
    frontier = set(keys)
    while frontier:
        added = [
            key
            for key, item in application.items.items()
            if key not in found and item.state in WITHDRAWABLE and frontier & set(item.requires)
        ]
        found.extend(added)
        frontier = set(added)
    return found


def _cancel_notices(application: ApplicationRecord) -> list[Notice]:
    """Open notices nothing is waiting for any more: all their items ended, or the whole
    application was withdrawn."""
    cancelled = []
    for notice in application.notices:
        items = [application.items[key] for key in notice.items]
        moot = bool(items) and all(item.state in ITEM_TERMINAL for item in items)
        if notice.status == "open" and (moot or application.state == "withdrawn"):
            notice.status = "cancelled"
            cancelled.append(notice)
    return cancelled


def _items(application: ApplicationRecord, keys: list[str]) -> list[ItemRecord]:
    return [application.items[key] for key in keys]
