"""The apply flow: questions → what you will get → the merged form → materials → check →
submit → confirmation. Thin handlers: the rules are in services, forms and uploads."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.actor import Actor
from auth.guards import require_actor
from portal.applications import (
    parties,
    prefill_io,
    readiness,
    receipts,
    services,
    steps,
    uploads,
)
from portal.applications.models import Application, Draft, Upload
from portal.assist import trail as assist_trail
from portal.catalog.schema import Audience, OneThing
from portal.forms.applicability import applicable_items, valid_answer
from portal.forms.merged import materials_for, merged_form, shown
from portal.forms.validation import check, read_fields
from portal.wallet import materials as wallet_materials
from portal.web import appstate
from portal.web.unavailable import committed


def _thing(request: Request, code: str) -> OneThing:
    thing = appstate.catalog(request).get(code)
    if thing is None:
        raise HTTPException(404)
    return thing


def _actor_for(request: Request, thing: OneThing) -> Actor:
    actor = require_actor(request, thing.min_assurance)
    if actor.acts_for_enterprise != (thing.audience == Audience.ENTERPRISE):
        raise HTTPException(403)
    if not actor.may_handle(thing.code):
        raise HTTPException(403)
    return actor


async def _draft(request: Request, db: Any) -> tuple[Draft, OneThing, Actor]:
    """The draft in the URL, only for who may handle it (404 otherwise: no hint it exists)."""
    actor = require_actor(request)
    draft = await services.get_draft(db, request.path_params["draft"], actor)
    if draft is None:
        raise HTTPException(404)
    thing = _thing(request, draft.thing_code)
    return draft, thing, _actor_for(request, thing)


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    block: str | None = None,
) -> Response:
    return appstate.templates(request).render(
        request, template, context, status_code=status, block=block
    )


async def _uploads(db: Any, draft: Draft) -> list[Upload]:
    rows = await db.execute(select(Upload).where(Upload.draft_id == draft.id).order_by(Upload.id))
    return list(rows.scalars())


# Start -----------------------------------------------------------------------------------


async def start_page(request: Request) -> Response:
    thing = _thing(request, request.path_params["code"])
    actor = require_actor(request, thing.min_assurance)
    wrong_subject = actor.acts_for_enterprise != (thing.audience == Audience.ENTERPRISE)
    out_of_scope = not actor.may_handle(thing.code)
    drafts: list[Draft] = []
    if not (wrong_subject or out_of_scope):
        async with appstate.database(request)() as db:
            drafts = await services.open_drafts(db, actor, thing.code)
    return _render(
        request,
        "applications/start.html",
        {
            "thing": thing,
            "catalog": appstate.catalog(request).catalog,
            "drafts": drafts,
            "wrong_subject": wrong_subject,
            "out_of_scope": out_of_scope,
            "resume": lambda d: steps.resume_url(d, thing),
        },
        status=403 if wrong_subject or out_of_scope else 200,
    )


async def start(request: Request) -> Response:
    thing = _thing(request, request.path_params["code"])
    actor = _actor_for(request, thing)
    async with appstate.database(request)() as db:
        draft = await services.start(db, thing, actor, appstate.settings(request).draft_days)
        await db.commit()
    return RedirectResponse(steps.after_question(draft, thing), status_code=303)


async def resume(request: Request) -> Response:
    async with appstate.database(request)() as db:
        draft, thing, _ = await _draft(request, db)
    return RedirectResponse(steps.resume_url(draft, thing), status_code=303)


# Situation questions ----------------------------------------------------------------------


async def question(request: Request) -> Response:
    async with appstate.database(request)() as db:
        draft, thing, _ = await _draft(request, db)
        situation = next(
            (s for s in thing.situations if s.key == request.path_params["question"]), None
        )
        if situation is None:
            raise HTTPException(404)
        problem = None
        if request.method == "POST":
            form = await request.form()
            answer = str(form.get("answer", ""))
            if valid_answer(situation, answer):
                draft.answers = {**draft.answers, situation.key: answer}
                services.touch(draft, appstate.settings(request).draft_days)
                await db.commit()
                target = (
                    steps.url(draft, "check")
                    if form.get("return") == "check"
                    else steps.after_question(draft, thing)
                )
                return RedirectResponse(target, status_code=303)
            problem = "answer_missing"
        position = [s.key for s in thing.situations].index(situation.key)
    return _render(
        request,
        "applications/question.html",
        {
            "draft": draft,
            "thing": thing,
            "situation": situation,
            "problem": problem,
            "chosen": draft.answers.get(situation.key),
            "position": position + 1,
            "count": len(thing.situations),
            "return_to": request.query_params.get("return"),
        },
        status=400 if problem else 200,
    )


async def result(request: Request) -> Response:
    """一次告知: what you will get, and every material, before any form."""
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        items = applicable_items(thing, draft.answers)
        if request.method == "POST":
            filled = await prefill_io.prefill_for(request, db, actor, thing, items)
            draft.prefilled = {key: asdict(p) for key, p in filled.items()}
            services.touch(draft, appstate.settings(request).draft_days)
            await db.commit()
            return RedirectResponse(steps.first_section(draft, thing), status_code=303)
    service = appstate.catalog(request)
    return _render(
        request,
        "applications/result.html",
        {
            "draft": draft,
            "thing": thing,
            "items": items,
            "catalog": service.catalog,
            "service": service,
            "materials": materials_for(thing, items, draft.values),
        },
    )


# The merged form ----------------------------------------------------------------------------


def _section_context(draft: Draft, thing: OneThing, key: str) -> dict[str, Any]:
    items = applicable_items(thing, draft.answers)
    form = merged_form(thing, items)
    section = form.section(key)
    if section is None:
        raise HTTPException(404)
    keys = [s.section.key for s in form.sections]
    return {"form": form, "section": section, "position": keys.index(key) + 1, "count": len(keys)}


async def section(request: Request) -> Response:
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        context = _section_context(draft, thing, request.path_params["section"])
        fields = context["section"].fields
        problems: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            typed = read_fields(_editable_shown(draft, fields, form), form)
            before = dict(draft.values)
            services.save_values(draft, typed, appstate.settings(request).draft_days)
            await assist_trail.citizen_edits(db, draft, actor.person_id, before)
            await db.commit()
            if form.get("action") == "save":
                return RedirectResponse("/applications?saved=1", status_code=303)
            values = services.effective_values(draft)
            problems = {} if form.get("action") == "refresh" else check(fields, values).problems
            if not problems and form.get("action") != "refresh":
                target = (
                    steps.url(draft, "check")
                    if form.get("return") == "check"
                    else steps.after_section(draft, thing, context["section"].section.key)
                )
                return RedirectResponse(target, status_code=303)
    return _render(
        request,
        "applications/section.html",
        {
            **context,
            "draft": draft,
            "thing": thing,
            "values": services.effective_values(draft),
            "prefilled": draft.prefilled,
            "problems": problems,
            "shown": shown,
            "return_to": request.query_params.get("return"),
            "catalog_license_types": appstate.catalog(request).catalog.license_types,
        },
        status=400 if problems else 200,
    )


async def autosave(request: Request) -> Response:
    """htmx saves each change as the person types; no validation, nothing lost."""
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        context = _section_context(draft, thing, request.path_params["section"])
        form = await request.form()
        fields = [f for f in context["section"].fields if not _locked(draft, f.key)]
        before = dict(draft.values)
        services.save_values(
            draft, read_fields(fields, form), appstate.settings(request).draft_days
        )
        await assist_trail.citizen_edits(db, draft, actor.person_id, before)
        await db.commit()
    return _render(request, "applications/_saved.html", {"saved_at": datetime.now(UTC)})


def _editable_shown(draft: Draft, fields: list[Any], form: Any) -> list[Any]:
    """The fields this page really showed (a hidden field is not blanked by a save) and that
    the person may change (identity-bound values are locked)."""
    rendered = set(form.getlist("_shown"))
    return [f for f in fields if f.key in rendered and not _locked(draft, f.key)]


def _locked(draft: Draft, key: str) -> bool:
    return bool(draft.prefilled.get(key, {}).get("locked"))


async def continue_draft(request: Request) -> Response:
    """Back after a break: the first place that still needs something."""
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        items = applicable_items(thing, draft.answers)
        form = merged_form(thing, items)
        values = services.effective_values(draft)
        for form_section in form.sections:
            if check(form_section.fields, values).problems:
                return RedirectResponse(
                    steps.url(draft, f"s/{form_section.section.key}"), status_code=303
                )
        found = await _uploads(db, draft)
        signer = await _signer(request, db, actor)
        if _readiness(request, draft, thing, found, signer).materials:
            return RedirectResponse(steps.url(draft, "materials"), status_code=303)
    return RedirectResponse(steps.url(draft, "check"), status_code=303)


async def _signer(request: Request, db: Any, actor: Actor) -> readiness.Signer:
    """Who would submit: the name the package gives as operator, the mobile on record."""
    me = await parties.person_party(db, appstate.cipher(request), actor.person_id)
    return readiness.Signer(me.name, me.mobile)


def _readiness(
    request: Request, draft: Draft, thing: OneThing, found: list[Upload], signer: readiness.Signer
) -> readiness.Readiness:
    license_types = appstate.catalog(request).catalog.license_types
    return services.readiness_of(draft, thing, found, signer, license_types)


# Materials ----------------------------------------------------------------------------------


async def materials(request: Request) -> Response:
    settings = appstate.settings(request)
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        items = applicable_items(thing, draft.answers)
        needed = materials_for(thing, items, services.effective_values(draft))
        problems: dict[str, str] = {}
        licenses = await prefill_io.licenses_for(request, db, actor, needed)
        if request.method == "POST":
            async with request.form() as form:
                action = form.get("action")
                problems = await _take_materials(db, settings, draft, actor, needed, form, licenses)
            services.touch(draft, settings.draft_days)
            await db.commit()
            if not problems and action != "upload":
                signer = await _signer(request, db, actor)
                found = await _uploads(db, draft)
                problems = _readiness(request, draft, thing, found, signer).materials
                if not problems:
                    return RedirectResponse(steps.url(draft, "check"), status_code=303)
        found = await _uploads(db, draft)
    context = {
        "draft": draft,
        "thing": thing,
        "materials": needed,
        "uploads": found,
        "licenses": licenses,
        "problems": problems,
        "items": items,
        "actor": actor,
        "catalog": appstate.catalog(request).catalog,
    }
    return _render(request, "applications/materials.html", context, status=400 if problems else 200)


async def _take_materials(
    db: Any,
    settings: Any,
    draft: Draft,
    actor: Actor,
    needed: list[Any],
    form: Any,
    licenses: dict[str, list[prefill_io.LicenseChoice]],
) -> dict[str, str]:
    """Record each material's choice (license, upload, 容缺) and store the uploads; a chosen
    license is kept with its GB/T 36904 identifier, which is what the platform is given."""
    problems: dict[str, str] = {}
    states = dict(draft.materials)
    for material in needed:
        state = dict(states.get(material.key, {}))
        choice = str(form.get(f"m.{material.key}.mode", state.get("mode", "upload")))
        state["mode"] = choice
        if choice == "license":
            state["license_id"] = str(form.get(f"m.{material.key}.license", ""))
            chosen = next(
                (c for c in licenses.get(material.key, []) if c.id == state["license_id"]), None
            )
            for key in ("identifier", "type", "holder_name"):
                # A licence not (or no longer) in the wallet leaves nothing to send.
                state[key] = getattr(chosen, key) if chosen is not None else None
            state["consent"] = form.get(f"m.{material.key}.consent") == "yes"
            if chosen is None:
                problems[material.key] = "license_missing"
            elif not state["consent"]:
                problems[material.key] = "license_consent"
        elif choice == "tolerate" and material.tolerable:
            signer = str(form.get(f"m.{material.key}.signature", "")).strip()
            if signer and signer == actor.name:
                state["signed_by"] = signer
                state["signed_at"] = datetime.now(UTC).isoformat()
            else:
                state.pop("signed_by", None)
                problems[material.key] = "signature"
        for file in form.getlist(f"m.{material.key}.files"):
            if isinstance(file, UploadFile) and file.filename:
                problem = await services.accept_upload(
                    db, settings, draft.id, actor.person_id, material.key, file
                )
                if problem:
                    problems[material.key] = problem
        states[material.key] = state
    draft.materials = states
    return problems


async def remove_upload(request: Request) -> Response:
    async with appstate.database(request)() as db:
        draft, _, actor = await _draft(request, db)
        await db.execute(
            delete(Upload).where(
                Upload.public_id == request.path_params["upload"],
                Upload.draft_id == draft.id,
                Upload.owner_id == actor.person_id,
            )
        )
        await db.commit()
    return RedirectResponse(steps.url(draft, "materials"), status_code=303)


async def upload_file(request: Request) -> Response:
    """An uploaded file, inline, to its owner only."""
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        upload = await db.scalar(
            select(Upload).where(Upload.public_id == request.path_params["upload"])
        )
    if upload is None or upload.owner_id != actor.person_id:
        raise HTTPException(404)
    content = uploads.read(appstate.settings(request).upload_dir, upload.stored_name)
    return Response(
        content,
        media_type=upload.content_type,
        headers={
            "cache-control": "private, no-store",
            "content-disposition": "inline",
            "x-content-type-options": "nosniff",
        },
    )


# Check and submit ---------------------------------------------------------------------------


async def check_page(request: Request) -> Response:
    async with appstate.database(request)() as db:
        draft, thing, actor = await _draft(request, db)
        items = applicable_items(thing, draft.answers)
        form = merged_form(thing, items)
        values = services.effective_values(draft)
        found = await _uploads(db, draft)
        ready = _readiness(request, draft, thing, found, await _signer(request, db, actor))
    service = appstate.catalog(request)
    return _render(
        request,
        "applications/check.html",
        {
            "draft": draft,
            "thing": thing,
            "items": items,
            "form": form,
            "values": values,
            "prefilled": draft.prefilled,
            "shown": shown,
            "problems": ready.fields,
            "material_problems": ready.materials,
            "draft_problems": ready.draft,
            "field_problems": _field_problems(form, ready.fields),
            "problem_keys": {path.split(".")[0] for path in ready.fields},
            "contact_section": _contact_section(form),
            "materials": materials_for(thing, items, values),
            "uploads": found,
            "catalog": service.catalog,
        },
    )


def _field_problems(form: Any, problems: dict[str, str]) -> list[tuple[str, Any, str]]:
    """(section key, field, message code) for each problem, in the form's order."""
    found = []
    for form_section in form.sections:
        for f in form_section.fields:
            for path, code in problems.items():
                if path == f.key or path.startswith(f.key + "."):
                    found.append((form_section.section.key, f, code))
    return found


def _contact_section(form: Any) -> str | None:
    """The section where a contact mobile can be typed, if this form has one."""
    for form_section in form.sections:
        if any(f.key in readiness.MOBILE_FIELDS for f in form_section.fields):
            return str(form_section.section.key)
    return None


async def submit(request: Request) -> Response:
    async with appstate.database(request)() as db:
        actor = require_actor(request)
        already = await db.scalar(
            select(Application).where(Application.draft_public_id == request.path_params["draft"])
        )
        if already is not None and services.may_access(already, actor):
            # A double click or a resubmitted form: the first submission stands.
            return RedirectResponse(
                f"/applications/{already.public_id}?submitted=1", status_code=303
            )
        draft, thing, actor = await _draft(request, db)
        found = await _uploads(db, draft)
        if not _readiness(request, draft, thing, found, await _signer(request, db, actor)).ready:
            # Nothing is lost: the check page says what to put right, and where.
            return RedirectResponse(steps.url(draft, "check"), status_code=303)
        effect = appstate.catalog(request).effects[thing.code]
        form = await request.form()
        handover = await _handover(request, db, actor, str(form.get("delivery_mode", "")))
        catalog = appstate.catalog(request).catalog
        enterprise = actor.subject.name if actor.acts_for_enterprise else None

        async def licences_used(db: AsyncSession, application: Application) -> int:
            return await wallet_materials.record(
                db, catalog, application, enterprise, new_application=True
            )

        application = await services.submit(
            db, draft, thing, found, effect, handover, also=licences_used
        )
    appstate.wake_relay(request)
    return committed(request, f"/applications/{application.public_id}?submitted=1")


async def _handover(request: Request, db: Any, actor: Actor, mode: str) -> services.Handover:
    settings = appstate.settings(request)
    cipher = appstate.cipher(request)
    subject, operator = await parties.resolve(db, cipher, actor)
    return services.Handover(
        subject=subject,
        operator=operator,
        cipher=cipher,
        file_url=settings.intake_files_url,
        secret=settings.secret_key,
        delivery_mode=mode,
    )


# After submission ----------------------------------------------------------------------------


PAGE_PARAMETER = re.compile(r"^[0-9]{1,6}$")


def _page_number(raw: str | None) -> int | None:
    """``?page=N`` from 1; None for anything else (``abc``, ``0``, ``-1``, ``1e9``)."""
    if raw is None:
        return 1
    number = int(raw) if PAGE_PARAMETER.match(raw) else 0
    return number if number >= 1 else None


async def my_applications(request: Request) -> Response:
    actor = require_actor(request)
    number = _page_number(request.query_params.get("page"))
    drafts: list[Draft] = []
    page = None
    async with appstate.database(request)() as db:
        if number == 1:
            drafts = await services.open_drafts(db, actor)
        if number is not None:
            page = await services.applications_page(db, actor, number)
    applications = page.applications if page else []
    catalog = appstate.catalog(request)
    problem = None if page else ("page_invalid" if number is None else "page_missing")
    return _render(
        request,
        "applications/list.html",
        {
            "drafts": drafts,
            "applications": applications,
            "page": page,
            "page_problem": problem,
            "catalog": catalog.catalog,
            "things": {
                code: catalog.get(code)
                for code in {d.thing_code for d in drafts} | {a.thing_code for a in applications}
            },
            "resume": lambda d: steps.resume_url(d, catalog.get(d.thing_code)),  # type: ignore[arg-type]
            "saved": request.query_params.get("saved") == "1",
            "expiring": services.expiring_soon,
        },
        status={None: 200, "page_invalid": 400, "page_missing": 404}[problem],
    )


async def receipt_pdf(request: Request) -> Response:
    application, thing, items = await receipts.load(request)
    pdf = await receipts.render_pdf(request, application, thing, items)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'inline; filename="{application.submission_number}.pdf"',
            "cache-control": "private, no-store",
        },
    )


routes = [
    Route("/things/{code:str}/apply", start_page, name="apply"),
    Route("/things/{code:str}/apply", start, methods=["POST"], name="apply_start"),
    Route("/drafts/{draft:str}", resume, name="draft"),
    Route("/drafts/{draft:str}/q/{question:str}", question, methods=["GET", "POST"]),
    Route("/drafts/{draft:str}/result", result, methods=["GET", "POST"]),
    Route("/drafts/{draft:str}/s/{section:str}", section, methods=["GET", "POST"]),
    Route("/drafts/{draft:str}/s/{section:str}/autosave", autosave, methods=["POST"]),
    Route("/drafts/{draft:str}/continue", continue_draft),
    Route("/drafts/{draft:str}/materials", materials, methods=["GET", "POST"]),
    Route("/drafts/{draft:str}/uploads/{upload:str}/delete", remove_upload, methods=["POST"]),
    Route("/drafts/{draft:str}/check", check_page),
    Route("/drafts/{draft:str}/submit", submit, methods=["POST"]),
    Route("/uploads/{upload:str}", upload_file, name="upload"),
    Route("/applications", my_applications, name="applications"),
    Route("/applications/{application:str}/receipt.pdf", receipt_pdf, name="receipt"),
]
