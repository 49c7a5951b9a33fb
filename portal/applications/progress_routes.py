"""After submission: the application page (progress, live with htmx), supplement (补正),
withdrawal (撤回), the receipt-number lookup for people not signed in, and the capability
URLs the platform fetches uploaded files from. Rules live in ``aftercare``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.guards import require_actor
from portal.applications import aftercare, lookup, package, uploads
from portal.applications.models import Application, Upload
from portal.catalog.schema import OneThing
from portal.forms.validation import read_fields
from portal.ratings import view as ratings_view
from portal.web import appstate


def _render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    context["catalog"] = appstate.catalog(request).catalog
    block = (
        "live" if request.headers.get("hx-request") and template.endswith("progress.html") else None
    )
    response = appstate.templates(request).render(
        request, template, context, status_code=status, block=block
    )
    response.headers["vary"] = "HX-Request"
    return response


async def _mine(request: Request, db: Any) -> tuple[Application, OneThing]:
    actor = require_actor(request)
    application = await aftercare.application_for(db, request.path_params["application"], actor)
    if application is None:
        raise HTTPException(404)
    thing = appstate.catalog(request).get(application.thing_code)
    if thing is None:
        raise HTTPException(404)
    return application, thing


async def application_page(request: Request) -> Response:
    """One Core statement (progress_read), or none (progress_pages); the htmx poll reads only
    what its part shows. After the person's own change (``?submitted``, ``?done``) the page
    reads the database, whatever this process was told."""
    actor = require_actor(request)
    poll = bool(request.headers.get("hx-request"))
    own_change = "submitted" in request.query_params or "done" in request.query_params
    found = await appstate.progress_pages(request).page(
        request.path_params["application"], actor, whole=not poll, fresh=own_change
    )
    if found is None:
        raise HTTPException(404)
    application, rows = found
    thing = appstate.catalog(request).get(application.thing_code)
    if thing is None:
        raise HTTPException(404)
    context = aftercare.context_of(
        application, thing, rows.items, rows.events, rows.notifications, rows.pending_topics
    )
    context |= ratings_view.shown_of(application, thing, rows.items, rows.ratings)
    context["just_submitted"] = request.query_params.get("submitted") == "1"
    context["message"] = request.query_params.get("done")
    return _render(request, "applications/progress.html", context)


async def withdraw(request: Request) -> Response:
    problem = None
    async with appstate.database(request)() as db:
        application, thing = await _mine(request, db)
        context = await aftercare.page_context(db, application, thing)
        if not context["can_withdraw"]:
            raise HTTPException(409)
        form = await request.form() if request.method == "POST" else None
        if form is not None:
            chosen = [str(k) for k in form.getlist("items")]
            reason = str(form.get("reason", "")).strip()
            problem = aftercare.withdrawal_problem(context["items"], chosen, reason)
            if problem is None:
                await aftercare.withdraw(
                    db,
                    appstate.cipher(request),
                    require_actor(request),
                    application,
                    thing,
                    chosen,
                    reason,
                )
                appstate.wake_relay(request)
                return RedirectResponse(
                    f"/applications/{application.public_id}?done=withdrawal", status_code=303
                )
    context.update(
        problem=problem,
        chosen=form.getlist("items") if form else [],
        reason=form.get("reason", "") if form else "",
    )
    return _render(request, "applications/withdraw.html", context, 400 if problem else 200)


async def supplement(request: Request) -> Response:
    settings = appstate.settings(request)
    problems: dict[str, str] = {}
    async with appstate.database(request)() as db:
        application, thing = await _mine(request, db)
        context = await aftercare.page_context(db, application, thing)
        notice = context["supplement"]
        if notice is None or context["supplement_pending"]:
            return RedirectResponse(f"/applications/{application.public_id}", status_code=303)
        fields = aftercare.notice_fields(thing, application, notice)
        actor = require_actor(request)
        values = dict(application.platform.get("supplement_values", {}))
        if request.method == "POST":
            async with request.form() as form:
                values.update(read_fields(fields, form))
                for material in notice.get("materials", []):
                    for file in form.getlist(f"m.{material['key']}.files"):
                        if isinstance(file, UploadFile) and file.filename:
                            refused = await aftercare.take_upload(
                                db, settings, application, actor, material["key"], file
                            )
                            if refused:
                                problems[material["key"]] = refused
                note = str(form.get("note", "")).strip()[:500]
            # Keep what was typed even when something is still wrong: nothing is lost.
            application.platform = {**application.platform, "supplement_values": values}
            found = await aftercare.supplement_uploads(db, application)
            problems |= aftercare.supplement_problems(fields, values, notice, found)
            if not problems:
                await aftercare.send_supplement(
                    db,
                    appstate.cipher(request),
                    actor,
                    application,
                    thing,
                    notice,
                    values,
                    found,
                    settings.intake_files_url,
                    settings.secret_key,
                    note,
                )
                appstate.wake_relay(request)
                return RedirectResponse(
                    f"/applications/{application.public_id}?done=supplement", status_code=303
                )
            await db.commit()
        found = await aftercare.supplement_uploads(db, application)
    context.update(
        notice=notice,
        fields=fields,
        values=values or aftercare.current_values(application, fields),
        problems=problems,
        uploads=found,
    )
    return _render(request, "applications/supplement.html", context, 400 if problems else 200)


async def track(request: Request) -> Response:
    """收件编号 + the last 6 of the applicant's ID number: progress without signing in."""
    problem, found = None, None
    number = tail = ""
    if request.method == "POST":
        form = await request.form()
        number = str(form.get("number", "")).strip().upper()
        tail = str(form.get("tail", "")).strip().upper()
        if not await appstate.limiter(request).allow("lookup", appstate.client_address(request)):
            problem = "too_many"
        elif not number or len(tail) != 6:
            problem = "incomplete"
        else:
            async with appstate.database(request)() as db:
                application = await lookup.find(db, appstate.cipher(request), number, tail)
                if application is None:
                    problem = "not_found"
                else:
                    thing = appstate.catalog(request).get(application.thing_code)
                    assert thing is not None
                    found = await aftercare.page_context(db, application, thing)
    status = {"too_many": 429, "incomplete": 400, "not_found": 404}.get(problem or "", 200)
    context = {"problem": problem, "found": found, "number": number}
    return _render(request, "applications/track.html", context, status)


async def intake_file(request: Request) -> Response:
    """An uploaded file for the platform, by an unguessable, expiring capability URL."""
    upload_id = package.read_file_token(
        appstate.settings(request).secret_key, request.path_params["token"]
    )
    if upload_id is None:
        raise HTTPException(404)
    async with appstate.database(request)() as db:
        upload = await db.scalar(select(Upload).where(Upload.public_id == upload_id))
    if upload is None:
        raise HTTPException(404)
    content = uploads.read(appstate.settings(request).upload_dir, upload.stored_name)
    return Response(
        content,
        media_type=upload.content_type,
        headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"},
    )


routes = [
    Route("/applications/{application:str}", application_page, name="application"),
    Route("/applications/{application:str}/withdraw", withdraw, methods=["GET", "POST"]),
    Route("/applications/{application:str}/supplement", supplement, methods=["GET", "POST"]),
    Route("/track", track, methods=["GET", "POST"], name="track"),
    Route("/intake-files/{token:str}", intake_file, name="intake_file"),
]
