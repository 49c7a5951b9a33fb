"""The citizen's way in: ask now (the queue) or book a slot; change, cancel, join bookings."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.guards import require_actor
from portal import clock
from portal.applications import services as drafts
from portal.assist import bookings, live, schedule, services
from portal.assist.models import AssistSlot
from portal.catalog.schema import OneThing
from portal.web import appstate


def _thing(request: Request, code: str | None) -> OneThing | None:
    if not code:
        return None
    thing = appstate.catalog(request).get(code)
    if thing is None:
        raise HTTPException(404)
    return thing


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return appstate.templates(request).render(request, name, context, status_code=status)


async def start(request: Request) -> Response:
    """Ask now or book, for a one-thing (from its guide, a draft or "my applications")."""
    actor = require_actor(request)
    thing = _thing(request, request.query_params.get("thing"))
    async with appstate.database(request)() as db:
        open_drafts = await drafts.open_drafts(db, actor, thing.code if thing else None)
        current = await services.open_session_of(db, actor.person_id)
        booked = await bookings.bookings_of(db, actor.person_id)
        past = await services.history(db, actor.person_id, as_assistant=False)
    catalog = appstate.catalog(request)
    return _render(
        request,
        "assist/start.html",
        {
            "thing": thing,
            "things": catalog.things(),
            "catalog": catalog,
            "drafts": open_drafts,
            "chosen_draft": request.query_params.get("draft"),
            "current": current,
            "bookings": booked,
            "past": past,
            "is_assistant": services.is_assistant(actor),
            "problem": request.query_params.get("problem"),
        },
    )


async def _draft_choice(request: Request, db: Any, value: str) -> str | None:
    """A draft the person may share (their own, open), or None."""
    if not value:
        return None
    draft = await drafts.get_draft(db, value, require_actor(request))
    return draft.public_id if draft else None


async def ask(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    thing = _thing(request, str(form.get("thing", "")))
    if thing is None:
        return RedirectResponse("/assist?problem=thing_missing", status_code=303)
    async with appstate.database(request)() as db:
        draft = await _draft_choice(request, db, str(form.get("draft", "")))
        session = await services.ask_now(db, actor.person_id, thing.code, draft)
    await live.queue_moved(request)
    return RedirectResponse(f"/assist/s/{session.public_id}", status_code=303)


def _by_day(slots: list[AssistSlot]) -> list[tuple[date, list[AssistSlot]]]:
    days: dict[date, list[AssistSlot]] = defaultdict(list)
    now = clock.now()
    for slot in slots:
        if clock.aware(slot.starts_at) > now:
            days[clock.china(slot.starts_at).date()].append(slot)
    return sorted(days.items())


async def _slots(request: Request, thing: OneThing) -> list[tuple[date, list[AssistSlot]]]:
    settings = appstate.settings(request)
    days = schedule.bookable_days(clock.china(clock.now()).date(), settings.assist_booking_days)
    async with appstate.database(request)() as db:
        slots = await schedule.ensure_slots(db, thing.code, days, settings.assist_slot_capacity)
        await db.commit()
    return _by_day(slots)


async def book(request: Request) -> Response:
    actor = require_actor(request)
    problem = None
    form: Any = {}
    if request.method == "POST":
        form = await request.form()
    thing = _thing(request, str(form.get("thing") or request.query_params.get("thing") or ""))
    if thing is None:
        return RedirectResponse("/assist?problem=thing_missing", status_code=303)
    if request.method == "POST":
        async with appstate.database(request)() as db:
            draft = await _draft_choice(request, db, str(form.get("draft", "")))
            slot_id = str(form.get("slot", ""))
            if not slot_id.isdigit():
                problem = "slot_missing"
            else:
                try:
                    await bookings.book(db, int(slot_id), actor.person_id, draft)
                except bookings.BookingRefused as refused:
                    problem = refused.code
        if problem is None:
            return RedirectResponse("/assist?booked=1#bookings", status_code=303)
    return _render(
        request,
        "assist/book.html",
        {
            "thing": thing,
            "days": await _slots(request, thing),
            "problem": problem,
            "draft": str(form.get("draft") or request.query_params.get("draft") or ""),
            "booking": None,
        },
        status=409
        if problem in ("slot_full", "already_booked", "slot_past")
        else 400
        if problem
        else 200,
    )


async def _my_booking(request: Request, db: Any) -> bookings.BookingView:
    actor = require_actor(request)
    found = await bookings.booking_of(db, request.path_params["booking"], actor.person_id)
    if found is None:
        raise HTTPException(404)
    return found


async def change(request: Request) -> Response:
    problem = None
    async with appstate.database(request)() as db:
        view = await _my_booking(request, db)
        thing = _thing(request, view.booking.thing_code)
        assert thing is not None
        if request.method == "POST":
            slot_id = str((await request.form()).get("slot", ""))
            try:
                if not slot_id.isdigit():
                    raise bookings.BookingRefused("slot_missing")
                await bookings.change(db, view.booking, int(slot_id))
                return RedirectResponse("/assist?changed=1#bookings", status_code=303)
            except bookings.BookingRefused as refused:
                problem = refused.code
    return _render(
        request,
        "assist/book.html",
        {
            "thing": thing,
            "days": await _slots(request, thing),
            "problem": problem,
            "draft": view.booking.draft_public_id or "",
            "booking": view,
        },
        status=409 if problem else 200,
    )


async def cancel(request: Request) -> Response:
    async with appstate.database(request)() as db:
        view = await _my_booking(request, db)
        await bookings.cancel(db, view.booking)
    return RedirectResponse("/assist?cancelled=1#bookings", status_code=303)


async def join(request: Request) -> Response:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        view = await _my_booking(request, db)
        if not view.joinable:
            return RedirectResponse("/assist?problem=not_open#bookings", status_code=303)
        session = await services.ask_now(
            db, actor.person_id, view.booking.thing_code, view.booking.draft_public_id, view.booking
        )
    await live.queue_moved(request)
    return RedirectResponse(f"/assist/s/{session.public_id}", status_code=303)


routes = [
    Route("/assist", start, name="assist"),
    Route("/assist/ask", ask, methods=["POST"], name="assist_ask"),
    Route("/assist/book", book, methods=["GET", "POST"], name="assist_book"),
    Route("/assist/bookings/{booking:str}/change", change, methods=["GET", "POST"]),
    Route("/assist/bookings/{booking:str}/cancel", cancel, methods=["POST"]),
    Route("/assist/bookings/{booking:str}/join", join, methods=["POST"]),
]
