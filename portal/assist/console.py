"""The assistant's console: who is waiting, today's bookings, calls in progress, history;
taking the next citizen. Nothing of a citizen shows here but the one-thing and the wait."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.actor import Actor
from auth.guards import require_actor
from portal import clock
from portal.assist import bookings, live, services
from portal.web import appstate


def require_assistant(request: Request) -> Actor:
    actor = require_actor(request)
    if not services.is_assistant(actor):
        raise HTTPException(403)
    return actor


async def console(request: Request) -> Response:
    actor = require_assistant(request)
    today = datetime.combine(clock.china(clock.now()).date(), time(0), clock.CHINA).astimezone(UTC)
    async with appstate.database(request)() as db:
        queue = await services.waiting(db)
        mine = await services.active_of(db, actor.person_id)
        booked = await bookings.bookings_between(db, today, today + timedelta(days=1))
        past = await services.history(db, actor.person_id, as_assistant=True)
    return appstate.templates(request).render(
        request,
        "assist/console.html",
        {
            "queue": queue,
            "mine": mine,
            "bookings": booked,
            "past": past,
            "catalog": appstate.catalog(request),
            "now": clock.now(),
            "aware": clock.aware,
            "china": clock.china,
            "duration": services.duration_minutes,
            "problem": request.query_params.get("problem"),
        },
        block="queue" if request.query_params.get("part") == "queue" else None,
    )


async def take(request: Request) -> Response:
    actor = require_assistant(request)
    wanted = str((await request.form()).get("session", "")) or None
    async with appstate.database(request)() as db:
        session = await services.take(db, actor.person_id, wanted)
    if session is None:
        return RedirectResponse("/assist/console?problem=nobody_waiting", status_code=303)
    await live.publish(request, session.public_id, {"type": "taken"})
    await live.queue_moved(request)
    return RedirectResponse(f"/assist/s/{session.public_id}", status_code=303)


routes = [
    Route("/assist/console", console, name="assist_console"),
    Route("/assist/console/take", take, methods=["POST"], name="assist_take"),
]
