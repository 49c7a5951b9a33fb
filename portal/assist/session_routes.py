"""The session page (waiting, in the call, summary) and what each side does in it. With
JavaScript a form swaps only its panel (htmx), so the call is never interrupted; without
it, each form posts and comes back to the page."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.crypto import mask_id_number
from auth.guards import require_actor
from portal import clock
from portal.applications import services as drafts
from portal.assist import cofill, ice, live, services
from portal.assist.models import AssistSession
from portal.catalog.schema import FieldType, FormField, OneThing
from portal.web import appstate

PARTS = ("live", "chat", "consent", "proposals", "draft", "notes", "callback")


async def _session(request: Request, db: Any) -> tuple[AssistSession, str]:
    found = await services.session_for(db, request.path_params["session"], require_actor(request))
    if found is None:  # not yours: no hint that it exists
        raise HTTPException(404)
    return found


def _thing(request: Request, session: AssistSession) -> OneThing:
    thing = appstate.catalog(request).get(session.thing_code)
    if thing is None:
        raise HTTPException(404)
    return thing


def shown_value(field: FormField, value: Any, masked: bool, translate: Any) -> str:
    """A value as a person reads it: a choice's label (``translate`` is the template's
    ``t``), an ID or account number masked for staff."""
    if value in (None, "", []):
        return ""
    if field.type == FieldType.CHOICE:
        choice = next((c for c in field.choices if c.value == value), None)
        return str(translate(choice.label)) if choice else str(value)
    if isinstance(value, dict):
        return str(value.get("text") or " ".join(str(v) for v in value.values() if v))
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if masked and field.type in (FieldType.RESIDENT_ID, FieldType.BANK_ACCOUNT):
        return mask_id_number(str(value))
    return str(value)


async def _context(request: Request, db: Any, session: AssistSession, role: str) -> dict[str, Any]:
    thing = _thing(request, session)
    context: dict[str, Any] = {
        "session": session,
        "role": role,
        "thing": thing,
        "catalog": appstate.catalog(request).catalog,
        "chat": await services.chat_of(db, session),
        "shown_value": shown_value,
        "problems": {},
        "kept": {},
        "duration": services.duration_minutes(session),
    }
    if session.status == "waiting":
        context["place"] = await services.place_in_queue(db, session)
    shared = await cofill.shared_draft(db, session)
    context["consent"] = shared[1] if shared else None
    context["draft"] = shared[0] if shared else None
    fields = cofill.form_fields(shared[0], thing) if shared else []
    context["fields"] = {f.key: f for f in fields}
    context["proposals"] = await cofill.pending(db, session)
    if role == "citizen":
        actor = require_actor(request)
        context["drafts"] = [
            d for d in await drafts.open_drafts(db, actor) if d.thing_code == session.thing_code
        ]
    else:
        context["values"] = drafts.effective_values(shared[0]) if shared else {}
        context["proposable"] = [f for f in fields if shared and cofill.proposable(shared[0], f)]
    if session.status == "ended" and session.draft_public_id:
        context["trail"] = await cofill.session_trail(db, session)
        context["all_fields"] = {f.key: f for f in thing.fields}
    else:
        context["trail"] = []
        context["all_fields"] = {}
    settings = appstate.settings(request)
    context["ice"] = ice.ice_servers(
        settings.assist_ice_urls, settings.assist_turn_secret, require_actor(request).person_id
    )
    return context


async def page(request: Request) -> Response:
    part = request.query_params.get("part")
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        context = await _context(request, db, session, role)
    return appstate.templates(request).render(
        request, "assist/session.html", context, block=part if part in PARTS else None
    )


async def _after(
    request: Request,
    session: AssistSession,
    part: str,
    problem: str | None = None,
    status: int = 200,
    kept: dict[str, str] | None = None,
) -> Response:
    """htmx: the panel again; without it, back to the page, or (a problem) the page at once
    with the message and what was typed kept, since a redirect would lose it."""
    htmx = request.headers.get("hx-request") == "true"
    if not htmx and problem is None:
        return RedirectResponse(f"/assist/s/{session.public_id}#{part}", status_code=303)
    async with appstate.database(request)() as db:
        fresh, role = await _session(request, db)
        context = await _context(request, db, fresh, role)
    context["problems"], context["kept"] = ({part: problem} if problem else {}), kept or {}
    return appstate.templates(request).render(
        request,
        "assist/session.html",
        context,
        block=part if htmx else None,
        status_code=status,
    )


async def _refresh(request: Request, session: AssistSession, *parts: str) -> None:
    await live.publish(request, session.public_id, {"type": "refresh", "parts": list(parts)})


# Either side --------------------------------------------------------------------------------


async def chat(request: Request) -> Response:
    form = await request.form()
    text = str(form.get("text", ""))
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        problem = services.chat_problem(text)
        if problem is None and session.status != "active":
            problem = "session_not_active"
        if problem is None:
            line = await services.add_chat(db, session, role, text)
    if problem is None:
        await live.publish(request, session.public_id, live.chat_event(role, text, line.sent_at))
    kept = {"text": text} if problem else None
    return await _after(request, session, "chat", problem, 400 if problem else 200, kept)


async def leave(request: Request) -> Response:
    """The citizen leaves the queue or ends the call."""
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen":
            raise HTTPException(403)
        if session.status != "ended":
            outcome = "left_queue" if session.status == "waiting" else "citizen_ended"
            await services.end(db, session, outcome)
    await live.publish(request, session.public_id, {"type": "ended"})
    await live.queue_moved(request)
    return RedirectResponse(f"/assist/s/{session.public_id}", status_code=303)


# The citizen ----------------------------------------------------------------------------------


async def consent(request: Request) -> Response:
    form = await request.form()
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen":
            raise HTTPException(403)
        draft = await drafts.get_draft(db, str(form.get("draft", "")), require_actor(request))
        scope = "direct" if form.get("direct") == "yes" else "view"
        problem = None
        if draft is None or draft.thing_code != session.thing_code:
            problem = "draft_missing"
        else:
            try:
                await cofill.grant(db, session, draft, scope)
            except cofill.CoFillRefused as refused:
                problem = refused.code
    if problem is None:
        await _refresh(request, session, "draft", "consent", "proposals")
    return await _after(request, session, "consent", problem, 400 if problem else 200)


async def revoke(request: Request) -> Response:
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen":
            raise HTTPException(403)
        await cofill.revoke(db, session)
    await _refresh(request, session, "draft", "consent", "proposals")
    return await _after(request, session, "consent")


async def decide(request: Request) -> Response:
    form = await request.form()
    proposal = request.path_params["proposal"]
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen":
            raise HTTPException(403)
        problem = None
        try:
            await cofill.decide(
                db,
                session,
                _thing(request, session),
                int(proposal) if proposal.isdigit() else 0,
                form.get("decision") == "accept",
                appstate.settings(request).draft_days,
            )
        except cofill.CoFillRefused as refused:
            problem = refused.code
    await _refresh(request, session, "draft", "proposals")
    return await _after(request, session, "proposals", problem, 409 if problem else 200)


async def callback(request: Request) -> Response:
    """Camera and microphone do not work: the citizen asks to be phoned instead."""
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen":
            raise HTTPException(403)
        if session.status != "ended" and session.callback_requested_at is None:
            session.callback_requested_at = clock.now()
            await db.commit()
    await live.queue_moved(request)
    await _refresh(request, session, "notes")
    return await _after(request, session, "callback")


async def rate(request: Request) -> Response:
    async with appstate.database(request)() as db:
        session, role = await _session(request, db)
        if role != "citizen" or session.status != "ended":
            raise HTTPException(404)
        problem = None
        if request.method == "POST":
            score = str((await request.form()).get("score", ""))
            if score in ("1", "2", "3", "4", "5"):
                session.rating, session.rated_at = int(score), clock.now()
                await db.commit()
                return RedirectResponse(f"/assist/s/{session.public_id}?rated=1", status_code=303)
            problem = "score_missing"
    return appstate.templates(request).render(
        request,
        "assist/rate.html",
        {"session": session, "thing": _thing(request, session), "problem": problem},
        status_code=400 if problem else 200,
    )


# The assistant -------------------------------------------------------------------------------


async def _assistant_session(request: Request, db: Any) -> AssistSession:
    session, role = await _session(request, db)
    if role != "assistant":
        raise HTTPException(403)
    return session


async def propose(request: Request) -> Response:
    form = await request.form()
    async with appstate.database(request)() as db:
        session = await _assistant_session(request, db)
        problem = None
        try:
            await cofill.propose(
                db,
                session,
                _thing(request, session),
                str(form.get("field", "")),
                str(form.get("value", "")),
                form.get("direct") == "yes",
                appstate.settings(request).draft_days,
            )
        except cofill.CoFillRefused as refused:
            problem = refused.code
    if problem is None:
        await _refresh(request, session, "proposals", "draft")
    kept = {"field": str(form.get("field", "")), "value": str(form.get("value", ""))}
    return await _after(request, session, "draft", problem, 400 if problem else 200, kept)


async def notes(request: Request) -> Response:
    form = await request.form()
    async with appstate.database(request)() as db:
        session = await _assistant_session(request, db)
        session.notes = {**session.notes, "notes": str(form.get("notes", ""))[:4000]}
        await db.commit()
    return await _after(request, session, "notes")


async def end(request: Request) -> Response:
    form = await request.form()
    outcome = str(form.get("outcome", ""))
    async with appstate.database(request)() as db:
        session = await _assistant_session(request, db)
        if outcome not in services.OUTCOMES:
            kept = {k: str(form.get(k, "")) for k in ("summary", "next_steps")}
            return await _after(request, session, "notes", "outcome_missing", 400, kept)
        if session.status == "active":
            await services.end(
                db,
                session,
                outcome,
                str(form.get("summary", ""))[:2000],
                str(form.get("next_steps", ""))[:2000],
            )
    await live.publish(request, session.public_id, {"type": "ended"})
    return RedirectResponse(f"/assist/s/{session.public_id}", status_code=303)


routes = [
    Route("/assist/s/{session:str}", page, name="assist_session"),
    Route("/assist/s/{session:str}/chat", chat, methods=["POST"]),
    Route("/assist/s/{session:str}/leave", leave, methods=["POST"]),
    Route("/assist/s/{session:str}/consent", consent, methods=["POST"]),
    Route("/assist/s/{session:str}/consent/revoke", revoke, methods=["POST"]),
    Route("/assist/s/{session:str}/proposals/{proposal:str}", decide, methods=["POST"]),
    Route("/assist/s/{session:str}/callback", callback, methods=["POST"]),
    Route("/assist/s/{session:str}/rate", rate, methods=["GET", "POST"]),
    Route("/assist/s/{session:str}/propose", propose, methods=["POST"]),
    Route("/assist/s/{session:str}/notes", notes, methods=["POST"]),
    Route("/assist/s/{session:str}/end", end, methods=["POST"]),
]
