"""The departments (联办部门), simulated: each dispatched item is accepted (受理) by its
department, waits until its prerequisites have a result (容缺预审), is decided after its
promised working days, gets its result and is delivered — every department in parallel, one
asyncio task per item, each step a change announced by its event.

One working day lasts ``store.speed`` seconds. Every step re-reads the item under the
application's lock first, so a withdrawal or an ended prerequisite simply ends the task: a
decision that arrives for a withdrawn item is discarded, as the contract says.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import datetime

from integrations.sandbox.intake_events import announce, announce_item, move, reason
from integrations.sandbox.intake_models import (
    HAS_RESULT,
    ITEM_TERMINAL,
    ApplicationRecord,
    ItemRecord,
    Json,
)
from integrations.sandbox.intake_notices import acceptance_notice
from integrations.sandbox.intake_results import produce
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_time import days_deadline, iso, now

ACCEPT_DAYS = 0.1  # a department looks at a dispatched item within a tenth of a day
ISSUE_DAYS = 0.02
DELIVER_DAYS = 0.05
MIN_DECISION_DAYS = 0.05
FAILED = frozenset({"not_accepted", "refused", "closed"})
PREFIXES = {"police": "GA", "health": "WJ", "hrss": "RS", "medical_insurance": "YB"}
DEFAULT_PICKUP = "新乡市政务服务中心“一件事”综合窗口"


async def department(store: IntakeStore, application: ApplicationRecord, item: ItemRecord) -> None:
    """One item from ``dispatched`` to its end."""
    await store.pause(ACCEPT_DAYS * random.uniform(0.5, 1.5))
    async with application.lock:
        if item.state != "dispatched" or not _acceptance(store, application, item):
            return
    # Its own time limit and its prerequisites run side by side (容缺预审): decided when
    # both are through.
    days = max(item.promised_days, MIN_DECISION_DAYS)
    _, ready = await asyncio.gather(store.pause(days), _prerequisites(application, item))
    if not ready:
        return
    async with application.lock:
        if item.state != "accepted" or not _decide(store, application, item):
            return
    await store.pause(ISSUE_DAYS)
    result = await produce(store, application, item)
    async with application.lock:
        at = now()
        move(application, item, "result_issued", at, result=result | {"issued_at": iso(at)})
        announce_item(store, application, item, "item.result_issued")
        if not result["physical"]:
            deliver(store, application, item, "")
        settle(store, application)
    if result["physical"] and application.request["delivery"]["mode"] == "per_item":
        await store.pause(DELIVER_DAYS)
        async with application.lock:
            if item.state == "result_issued":
                deliver(store, application, item, _tracking_number())
                settle(store, application)


def _acceptance(store: IntakeStore, application: ApplicationRecord, item: ItemRecord) -> bool:
    """受理 (True), or 不予受理 or an acceptance-stage notice as the scenario says."""
    at, first = now(), item.key == next(iter(application.items))
    if application.scenario == "not_accept_item" and first:
        message = f"经受理审查，本次申请不符合“{item.name}”的受理条件，依法不予受理。"
        end(store, application, item, reason("not_eligible", message))
        settle(store, application)
        return False
    scenario = application.scenario
    if first and scenario == "supplement_item" and scenario not in application.scenarios_done:
        application.scenarios_done.add(scenario)  # once: the supplement lets it in
        notice = acceptance_notice(application, item, at)
        application.notices.append(notice)
        move(application, item, "supplement_requested", at, deadline=notice.deadline)
        event = "application.supplement_requested"
        announce(store, application, event, at, items=[item], notice=notice)
        return False
    acceptance = _ruling("accepted", item, at, case_number=_case_number(store, item, at))
    deadline = days_deadline(at, item.promised_days, "authority") if item.promised_days else None
    for owed in item.owed:
        owed.due_at = days_deadline(at, 10, "applicant").due_at
    move(application, item, "accepted", at, acceptance=acceptance, deadline=deadline)
    announce_item(store, application, item, "item.accepted")
    return True


async def _prerequisites(application: ApplicationRecord, item: ItemRecord) -> bool:
    """Wait until every prerequisite has a result; False when the item ended meanwhile
    (``settle`` ends it when a prerequisite ends without one)."""
    while item.state == "accepted":
        if all(application.items[key].state in HAS_RESULT for key in item.requires):
            return True
        await application.changed.wait()
    return False


def _decide(store: IntakeStore, application: ApplicationRecord, item: ItemRecord) -> bool:
    at = now()
    if application.scenario == "refuse_item" and item.key == refused_item(application):
        message = (
            f"经审查，申请人不符合“{item.name}”的办理条件，决定不予批准。"
            "如对本决定不服，可依法申请行政复议或者提起行政诉讼。"
        )
        basis = application.config(item.key).legal_basis[0].zh_Hans
        end(store, application, item, reason("not_eligible", message, basis))
        settle(store, application)
        return False
    decision = _ruling("approved", item, at)
    move(application, item, "approved", at, decision=decision, deadline=None)
    announce_item(store, application, item, "item.approved")
    return True


def refused_item(application: ApplicationRecord) -> str | None:
    """The first item that no other item of the application requires."""
    required = {key for item in application.items.values() for key in item.requires}
    return next((key for key in application.items if key not in required), None)


def end(store: IntakeStore, application: ApplicationRecord, item: ItemRecord, why: Json) -> None:
    """不予受理 before acceptance, 不予批准 after it."""
    at = now()
    number = f"{item.department_name}〔{at.year}〕第 {store.next_number():04d} 号"
    if item.state == "accepted":
        decision = _ruling("refused", item, at, reasons=[why], document_number=number)
        move(application, item, "refused", at, decision=decision, deadline=None)
        announce_item(store, application, item, "item.refused")
    else:
        ruling = _ruling("not_accepted", item, at, reasons=[why], document_number=number)
        move(application, item, "not_accepted", at, acceptance=ruling, deadline=None)
        announce_item(store, application, item, "item.not_accepted")


def deliver(
    store: IntakeStore, application: ApplicationRecord, item: ItemRecord, tracking: str
) -> None:
    at, choice = now(), application.request["delivery"]
    method = choice["method"] if item.result and item.result["physical"] else "electronic"
    if method == "mail" and "mail" not in application.config(item.key).result.delivery:
        method = "pickup"  # e.g. the vaccination certificate, collected at the clinic
    record: Json = {"method": method, "mode": choice["mode"], "delivered_at": iso(at)}
    record |= {"carrier": None, "tracking_number": None, "place": None, "collected_by": None}
    if method == "mail":
        record |= {"carrier": "EMS", "tracking_number": tracking or _tracking_number()}
    elif method == "pickup":
        place = choice.get("pickup_place") or DEFAULT_PICKUP
        record |= {"place": place, "collected_by": application.request["contact"]["name"]}
    move(application, item, "delivered", at, delivery=record)
    announce_item(store, application, item, "item.delivered")


def settle(store: IntakeStore, application: ApplicationRecord) -> None:
    """After an item changed: end the items whose prerequisites ended without a result,
    cancel moot notices, deliver a unified parcel once it is complete, conclude."""
    while ended := [
        item
        for item in application.items.values()
        if item.state in ("dispatched", "supplement_requested", "accepted")
        and any(application.items[key].state in FAILED for key in item.requires)
    ]:
        for item in ended:
            message = f"前置事项未办结，“{item.name}”无法继续办理，本事项终止。"
            end(store, application, item, reason("prerequisite_not_met", message))
    for notice in application.notices:
        if (
            notice.status == "open"
            and notice.items
            and all(application.items[key].state in ITEM_TERMINAL for key in notice.items)
        ):
            notice.status = "cancelled"  # every item it concerns ended without needing it
    _deliver_unified(store, application)
    conclude(store, application)


def conclude(store: IntakeStore, application: ApplicationRecord) -> None:
    items = application.items.values()
    if application.state == "in_progress" and all(i.state in ITEM_TERMINAL for i in items):
        at = now()
        application.state, application.concluded_at, application.deadline = "concluded", at, None
        announce(store, application, "application.concluded", at)


def _deliver_unified(store: IntakeStore, application: ApplicationRecord) -> None:
    if application.request["delivery"]["mode"] != "unified":
        return
    items = application.items.values()
    if all(i.state == "result_issued" or i.state in ITEM_TERMINAL for i in items):
        parcel = _tracking_number()  # one parcel: the same waybill on every item
        for item in [i for i in items if i.state == "result_issued"]:
            deliver(store, application, item, parcel)


def _ruling(
    outcome: str,
    item: ItemRecord,
    at: datetime,
    *,
    case_number: str | None = None,
    document_number: str | None = None,
    reasons: list[Json] | None = None,
) -> Json:
    ruling: Json = {"outcome": outcome, "decided_at": iso(at), "decided_by": item.department_name}
    if outcome in ("accepted", "not_accepted"):
        ruling["case_number"] = case_number
    return ruling | {"document_number": document_number, "reasons": reasons or []}


def _case_number(store: IntakeStore, item: ItemRecord, at: datetime) -> str:
    prefix = PREFIXES.get(item.department, item.department[:2].upper())
    return f"{prefix}410700-{at:%Y%m%d}-{store.next_number():04d}"


def _tracking_number() -> str:
    return f"11{secrets.randbelow(10**11):011d}"
