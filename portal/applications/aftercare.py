"""Rules after submission: who may see an application, what its page shows, withdrawing
items (with the items that depend on them), and answering a supplement notice. Every
change to send goes into the outbox in the same transaction as the portal's own record."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from auth.actor import Actor
from auth.crypto import PersonalDataCipher
from portal import clock
from portal.applications import package, parties, progress, progress_view, services
from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    Draft,
    OutboxMessage,
    Upload,
)
from portal.catalog.schema import FormField, OneThing
from portal.forms.merged import merged_form
from portal.forms.validation import check
from portal.notifications.models import Notification
from portal.relay import outbox

if TYPE_CHECKING:
    from portal.applications.progress_read import (
        ApplicationRow,
        EventRow,
        ItemRow,
        NotificationRow,
    )


async def application_for(db: AsyncSession, public_id: str, actor: Actor) -> Application | None:
    application = await db.scalar(select(Application).where(Application.public_id == public_id))
    if application is None or not services.may_access(application, actor):
        return None
    return application


async def page_context(
    db: AsyncSession, application: Application, thing: OneThing
) -> dict[str, Any]:
    rows = await db.execute(
        select(ApplicationItem)
        .where(ApplicationItem.application_id == application.id)
        .order_by(ApplicationItem.id)
    )
    events = await db.execute(
        select(ApplicationEvent).where(ApplicationEvent.application_id == application.id)
    )
    log = await db.execute(
        select(Notification)
        .where(Notification.application_id == application.id)
        .order_by(Notification.created_at.desc())
    )
    pending = set(
        (
            await db.execute(
                select(OutboxMessage.topic).where(
                    OutboxMessage.application_id == application.id,
                    OutboxMessage.state == "pending",
                )
            )
        ).scalars()
    )
    return context_of(
        application,
        thing,
        list(rows.scalars()),
        list(events.scalars()),
        list(log.scalars()),
        pending,
    )


def context_of(
    application: Application | ApplicationRow,
    thing: OneThing,
    item_rows: Sequence[ApplicationItem | ItemRow],
    events: Sequence[ApplicationEvent | EventRow],
    notifications: Sequence[Notification | NotificationRow],
    pending: set[str],
) -> dict[str, Any]:
    """What the progress page shows, from rows read either way (ORM here, Core in
    ``progress_read``); ``notifications`` newest first, ``pending``: outbox topics."""
    items = progress_view.items(thing, item_rows)
    return {
        "application": application,
        "thing": thing,
        "item_rows": item_rows,  # for the ratings section, which reads them too
        "items": items,
        "timeline": progress_view.timeline(events),
        "notifications": list(notifications),
        "notices": application.platform.get("notices", []),
        "supplement": progress_view.supplement_notice(application),
        "supplement_pending": "intake.supplement" in pending,
        "withdrawal_pending": "intake.withdraw" in pending,
        "can_withdraw": progress_view.can_withdraw(application, items)
        and "intake.withdraw" not in pending,
        "finished": progress_view.finished(application),
        "deadline": progress_view.deadline_of(application.platform.get("deadline")),
        "done_count": sum(1 for v in items if v.state in progress_view.DONE),
    }


# Withdrawal --------------------------------------------------------------------------------


def dependants(views: Sequence[progress_view.ItemView], chosen: set[str]) -> set[str]:
    """``chosen`` plus every undecided item that requires one of them, directly or not."""
    found = set(chosen)
    grew = True
    while grew:
        grew = False
        for view in views:
            needs = set(view.item.requires if view.item else [])
            if view.key not in found and view.withdrawable and needs & found:
                found.add(view.key)
                grew = True
    return found


def withdrawal_problem(
    views: Sequence[progress_view.ItemView], chosen: Sequence[str], reason: str
) -> str | None:
    allowed = {v.key for v in views if v.withdrawable}
    if not chosen:
        return "withdraw_none"
    if not set(chosen) <= allowed:
        return "withdraw_decided"
    if not reason:
        return "withdraw_reason"
    return None


async def withdraw(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    actor: Actor,
    application: Application,
    thing: OneThing,
    chosen: Sequence[str],
    reason: str,
) -> None:
    context = await page_context(db, application, thing)
    views: list[progress_view.ItemView] = context["items"]
    keys = dependants(views, set(chosen))
    every = {v.key for v in views if v.state not in progress.TERMINAL_ITEM}
    _, operator = await parties.resolve(db, cipher, actor)
    body: dict[str, Any] = {
        "reason": reason[:500],
        "requested_by": package.operator_json(operator),
        "requested_at": _now_iso(),
    }
    if keys != every:  # omitted means the whole application
        body["items"] = [v.key for v in views if v.key in keys]
    path = f"/applications/{application.public_id}/withdrawals"
    outbox.enqueue(
        db, cipher, "intake.withdraw", _key(), {"path": path, "body": body}, application.id
    )
    progress.record(
        db, application, "portal.withdrawal_sent", data={"items": sorted(keys), "reason": reason}
    )
    await db.commit()


# Supplement (补正) -------------------------------------------------------------------------


def notice_fields(
    thing: OneThing, application: Application, notice: dict[str, Any]
) -> list[FormField]:
    wanted = [entry["key"] for entry in notice.get("fields", [])]
    by_key = {f.key: f for f in merged_form(thing, list(thing.items)).fields}
    return [by_key[key] for key in wanted if key in by_key]


def current_values(application: Application, fields: Sequence[FormField]) -> dict[str, Any]:
    return {f.key: application.values.get(f.key) for f in fields}


async def _draft_id(db: AsyncSession, application: Application) -> int:
    draft_id = await db.scalar(
        select(Draft.id).where(Draft.public_id == application.draft_public_id)
    )
    assert draft_id is not None
    return draft_id


async def supplement_uploads(db: AsyncSession, application: Application) -> list[Upload]:
    """Files uploaded for the open notice (after the submission; earlier ones were sent)."""
    rows = await db.execute(
        select(Upload)
        .where(
            Upload.draft_id == await _draft_id(db, application),
            Upload.created_at > application.submitted_at,
        )
        .order_by(Upload.id)
    )
    return list(rows.scalars())


async def take_upload(
    db: AsyncSession,
    settings: Any,
    application: Application,
    actor: Actor,
    material_key: str,
    file: UploadFile,
) -> str | None:
    """A file for the open notice, kept with the application's draft like the first ones."""
    draft_id = await _draft_id(db, application)
    return await services.accept_upload(db, settings, draft_id, actor.person_id, material_key, file)


def supplement_problems(
    fields: Sequence[FormField],
    values: dict[str, Any],
    notice: dict[str, Any],
    found: Sequence[Upload],
) -> dict[str, str]:
    problems = check(list(fields), values).problems
    for material in notice.get("materials", []):
        if not any(u.material_key == material["key"] for u in found):
            problems[material["key"]] = "material_missing"
    return problems


async def send_supplement(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    actor: Actor,
    application: Application,
    thing: OneThing,
    notice: dict[str, Any],
    values: dict[str, Any],
    found: Sequence[Upload],
    file_url: str,
    secret: str,
    note: str,
) -> None:
    """一次补正: every field and material the notice lists, nothing else."""
    _, operator = await parties.resolve(db, cipher, actor)
    keys = [entry["key"] for entry in notice.get("fields", [])]
    materials = {m.key: m for m in thing.materials}
    body: dict[str, Any] = {
        "notice_id": notice["notice_id"],
        "form": {key: package.form_value(values.get(key)) for key in keys},
        "materials": {
            entry["key"]: package.material_json(
                materials[entry["key"]], {"mode": "upload"}, found, file_url, secret
            )
            for entry in notice.get("materials", [])
            if entry["key"] in materials
        },
        "submitted_by": package.operator_json(operator),
        "submitted_at": _now_iso(),
        "note": note or None,
    }
    application.values = {**application.values, **{key: values.get(key) for key in keys}}
    platform = dict(application.platform)
    platform.pop("supplement_values", None)
    application.platform = platform
    path = f"/applications/{application.public_id}/supplements"
    outbox.enqueue(
        db, cipher, "intake.supplement", _key(), {"path": path, "body": body}, application.id
    )
    progress.record(db, application, "portal.supplement_sent", data={"notice": notice["notice_id"]})
    await db.commit()


def _key() -> str:
    return secrets.token_urlsafe(16)


def _now_iso() -> str:
    return clock.china(clock.now()).isoformat(timespec="seconds")
