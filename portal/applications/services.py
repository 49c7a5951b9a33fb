"""Rules of drafts and submission."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from starlette.datastructures import UploadFile

from auth.actor import Actor
from auth.crypto import PersonalDataCipher
from portal import clock
from portal.applications import package, readiness, uploads
from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    Draft,
    Upload,
)
from portal.applications.package import Operator, Party
from portal.applications.parties import id_tail
from portal.assist import trail as assist_trail
from portal.catalog.effects import Effect
from portal.catalog.schema import OneThing
from portal.forms.applicability import applicable_items
from portal.forms.merged import materials_for, merged_form, shown
from portal.relay import outbox
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.applications.progress_read import ApplicationRow


def new_public_id() -> str:
    return secrets.token_urlsafe(16)


async def start(db: AsyncSession, thing: OneThing, actor: Actor, days: int) -> Draft:
    now = clock.now()
    draft = Draft(
        public_id=new_public_id(),
        thing_code=thing.code,
        subject_kind=actor.subject.kind,
        subject_id=actor.subject.id,
        operator_id=actor.person_id,
        answers={},
        values={},
        prefilled={},
        materials={},
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.add(draft)
    await db.flush()
    return draft


def may_access(draft: Draft | Application | ApplicationRow, actor: Actor) -> bool:
    """Same subject; a person's own drafts only by themselves; an agent within scope."""
    if (draft.subject_kind, draft.subject_id) != (actor.subject.kind, actor.subject.id):
        return False
    if draft.subject_kind == "person":
        return draft.operator_id == actor.person_id
    return actor.may_handle(draft.thing_code)


async def get_draft(db: AsyncSession, public_id: str, actor: Actor) -> Draft | None:
    draft = await db.scalar(select(Draft).where(Draft.public_id == public_id))
    if draft is None or not may_access(draft, actor) or draft.submitted_at is not None:
        return None
    if clock.aware(draft.expires_at) < clock.now():
        return None
    return draft


async def open_drafts(db: AsyncSession, actor: Actor, thing_code: str | None = None) -> list[Draft]:
    query = (
        select(Draft)
        .where(
            Draft.subject_kind == actor.subject.kind,
            Draft.subject_id == actor.subject.id,
            Draft.submitted_at.is_(None),
            Draft.expires_at > clock.now(),
        )
        .order_by(Draft.updated_at.desc())
    )
    if thing_code:
        query = query.where(Draft.thing_code == thing_code)
    drafts = (await db.execute(query)).scalars()
    return [d for d in drafts if may_access(d, actor)]


PAGE_SIZE = 20


def _visible_to(actor: Actor) -> list[ColumnElement[bool]]:
    """``may_access`` as SQL, so that a page holds only what the actor may see."""
    where = [
        Application.subject_kind == actor.subject.kind,
        Application.subject_id == actor.subject.id,
    ]
    if actor.subject.kind == "person":
        where.append(Application.operator_id == actor.person_id)
    elif actor.thing_codes is not None:
        where.append(Application.thing_code.in_(actor.thing_codes))
    return where


@dataclass(frozen=True)
class Page:
    applications: list[Application]
    number: int  # from 1
    pages: int  # at least 1, even with nothing submitted yet


async def applications_page(
    db: AsyncSession, actor: Actor, number: int, size: int = PAGE_SIZE
) -> Page | None:
    """Page ``number`` of the actor's applications, newest first; None past the last page."""
    where = _visible_to(actor)
    total = int(await db.scalar(select(func.count()).select_from(Application).where(*where)) or 0)
    pages = max(1, -(-total // size))
    if number > pages:
        return None
    rows = await db.execute(
        select(Application)
        .where(*where)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    )
    return Page(list(rows.scalars()), number, pages)


REMIND_DAYS = 3


def expiring_soon(draft: Draft) -> bool:
    """Drafts close to expiry are flagged on "my applications" (the reminder)."""
    return clock.aware(draft.expires_at) - clock.now() < timedelta(days=REMIND_DAYS)


def touch(draft: Draft, days: int) -> None:
    draft.updated_at = clock.now()
    draft.expires_at = draft.updated_at + timedelta(days=days)


def save_values(draft: Draft, values: dict[str, Any], days: int) -> None:
    """Keeps what was typed, valid or not: nothing typed is ever lost."""
    merged = dict(draft.values)
    merged.update(values)
    draft.values = merged
    touch(draft, days)


def effective_values(draft: Draft) -> dict[str, Any]:
    """Typed values over prefilled ones; locked (identity) values always win."""
    values = {k: p["value"] for k, p in draft.prefilled.items()}
    values.update(draft.values)
    for key, prefilled in draft.prefilled.items():
        if prefilled.get("locked"):
            values[key] = prefilled["value"]
    return values


def readiness_of(
    draft: Draft,
    thing: OneThing,
    uploads: list[Upload],
    signer: readiness.Signer,
    license_types: Mapping[str, Any],
) -> readiness.Readiness:
    """Everything that keeps the draft from being submitted (and the platform taking it)."""
    values = effective_values(draft)
    return readiness.readiness(
        thing, draft.answers, values, draft.materials, uploads, signer, license_types
    )


def figures(draft: Draft, thing: OneThing, uploads: list[Upload], effect: Effect) -> dict[str, int]:
    """This application's own figures: typed vs filled for the person, uploaded vs licensed."""
    items = applicable_items(thing, draft.answers)
    form = merged_form(thing, items)
    values = effective_values(draft)
    visible = [f for f in form.fields if shown(f, values)]
    filled = [
        f
        for f in visible
        if f.key in draft.prefilled
        and draft.values.get(f.key, draft.prefilled[f.key]["value"])
        == draft.prefilled[f.key]["value"]
    ]
    materials = materials_for(thing, items, values)
    licensed = [m for m in materials if draft.materials.get(m.key, {}).get("mode") == "license"]
    tolerated = [m for m in materials if draft.materials.get(m.key, {}).get("mode") == "tolerate"]
    return {
        "fields": len(visible),
        "fields_filled_for_you": len(filled),
        "fields_typed": len(visible) - len(filled),
        "materials": len(materials),
        "materials_from_licenses": len(licensed),
        "materials_uploaded": len({u.material_key for u in uploads}),
        "materials_tolerated": len(tolerated),
        "materials_separately": sum(len(i.materials) for i in items),
        "items": len(items),
    }


@dataclass(frozen=True)
class Handover:
    """What the package needs beyond the draft: who, how files are fetched, delivery."""

    subject: Party
    operator: Operator
    cipher: PersonalDataCipher
    file_url: str  # base of the capability URLs the platform fetches uploads from
    secret: str
    delivery_mode: str = "per_item"

    def recipient(self, values: Mapping[str, Any]) -> Party:
        """Who receives a mailed result: the operator, at the contact mobile."""
        signer = readiness.Signer(self.operator.person.name, self.operator.person.mobile)
        return Party(name=signer.name, mobile=readiness.contact_mobile(values, signer))


TAIL_PURPOSE = "application.id_tail"
# Plain tables, not the mapped classes: an INSERT of a mapped class through the session takes
# the ORM's bulk path (an UPDATE also its synchronisation with the identity map).
APPLICATIONS = cast(Table, Application.__table__)
ITEMS = cast(Table, ApplicationItem.__table__)
TIMELINE = cast(Table, ApplicationEvent.__table__)
DRAFTS = cast(Table, Draft.__table__)


async def submit(
    db: AsyncSession,
    draft: Draft,
    thing: OneThing,
    uploads: list[Upload],
    effect: Effect,
    handover: Handover,
    also: Callable[[AsyncSession, Application], Awaitable[object]] | None = None,
) -> Application:
    """Application, items, timeline, the outbox row and ``also`` (what else the submission
    records) in one transaction; the same draft twice gives the first application back (a
    double click, a resubmitted form: the unique draft id; the caller looks first).

    The rows are written by Core statements (``INSERT … RETURNING`` for the application,
    one multi-row ``INSERT`` for its items), not the session's unit of work: the flushes
    were most of a submission's CPU. Sealed columns are sealed by their types either way."""
    now = clock.now()
    items = applicable_items(thing, draft.answers)
    values = readiness.submitted_values(thing, draft.answers, effective_values(draft))
    tail = id_tail(handover.subject)
    columns: dict[str, Any] = {
        "public_id": new_public_id(),
        "draft_public_id": draft.public_id,
        "thing_code": thing.code,
        "subject_kind": draft.subject_kind,
        "subject_id": draft.subject_id,
        "operator_id": draft.operator_id,
        "answers": draft.answers,
        "values": values,
        "materials": draft.materials,
        "figures": figures(draft, thing, uploads, effect),
        "status": "submitted",
        "submitted_at": now,
        "updated_at": now,
        "sequence": -1,
        "platform": {},
        "delivery": package.delivery(values, handover.delivery_mode, handover.recipient(values)),
        "relay_status": "pending",
        "applicant_tail_hash": handover.cipher.lookup_hash(tail, TAIL_PURPOSE) if tail else None,
    }
    try:
        inserted = await db.scalar(
            insert(APPLICATIONS).values(columns).returning(APPLICATIONS.c.id)
        )
    except IntegrityError:
        await db.rollback()
        found = await db.scalar(
            select(Application).where(Application.draft_public_id == draft.public_id)
        )
        assert found is not None
        return found
    assert inserted is not None
    application_id: int = inserted
    number = submission_number(application_id, now)
    await db.execute(
        update(APPLICATIONS)
        .where(APPLICATIONS.c.id == application_id)
        .values(submission_number=number)
    )
    # What the package, the timeline and ``also`` read; not in the session (nothing to flush).
    application = Application(id=application_id, submission_number=number, **columns)
    await db.execute(
        insert(ITEMS),
        [
            {
                "application_id": application_id,
                "item_key": item.key,
                "department": item.department,
                "promised_days": item.promised_days,
                "status": "submitted",
                "sequence": -1,
                "snapshot": {},
            }
            for item in items
        ],
    )
    body = package.submission(
        application,
        thing,
        items,
        materials_for(thing, items, values),
        uploads,
        handover.subject,
        handover.operator,
        handover.file_url,
        handover.secret,
    )
    envelope = {"path": "/applications", "body": body}
    await outbox.insert_now(
        db, handover.cipher, "intake.submit", application.public_id, envelope, application_id
    )
    await db.execute(
        insert(TIMELINE).values(
            application_id=application_id, kind="portal.submitted", occurred_at=now, data={}
        )
    )
    await assist_trail.record_on_submit(db, application)
    if also is not None:
        await also(db, application)
    await db.execute(update(DRAFTS).where(DRAFTS.c.id == draft.id).values(submitted_at=now))
    set_committed_value(draft, "submitted_at", now)
    await db.commit()
    return application


def submission_number(application_id: int, when: datetime) -> str:
    """The portal's own reference (YJS + date + sequence), readable over the phone; the
    platform's receipt number (收件编号) comes with ``application.received``."""
    return f"YJS{when:%Y%m%d}{application_id:06d}"


async def accept_upload(
    db: AsyncSession,
    settings: Settings,
    draft_id: int,
    owner_id: int,
    material_key: str,
    file: UploadFile,
) -> str | None:
    """Cleans and stores one uploaded file for a draft's material; a message code when it is
    refused (too big, wrong type, not an image), None when it was taken."""
    content = await file.read(settings.max_upload_bytes + 1)
    try:
        cleaned = uploads.clean(content, settings.max_upload_bytes)
    except uploads.UploadRefused as refused:
        return f"upload_{refused.code}"
    db.add(
        Upload(
            public_id=new_public_id(),
            owner_id=owner_id,
            draft_id=draft_id,
            material_key=material_key,
            stored_name=uploads.store(settings.upload_dir, cleaned),
            content_type=cleaned.content_type,
            size=len(cleaned.content),
            sha256=cleaned.sha256,
            original_name=(file.filename or "")[:200],
            created_at=clock.now(),
        )
    )
    await db.flush()
    return None
