"""Agent authorisation pages: the enterprise's list and form; accept/end for either side."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.actor import Actor
from auth.guards import require_actor
from auth.models import Person
from portal.agents import services
from portal.catalog.schema import Audience
from portal.web import appstate


def _legal_representative(request: Request) -> Actor:
    actor = require_actor(request, "L3")
    if not actor.acts_for_enterprise or actor.capacity != "legal_representative":
        raise HTTPException(403)
    return actor


def _enterprise_things(request: Request) -> list[Any]:
    return appstate.catalog(request).things(Audience.ENTERPRISE)


async def _page(
    request: Request,
    actor: Actor,
    problems: dict[str, str] | None = None,
    entered: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    today = datetime.now(UTC).date()
    async with appstate.database(request)() as db:
        grants = await services.for_enterprise(db, actor.subject.id)
    return appstate.templates(request).render(
        request,
        "agents/agents.html",
        {
            "actor": actor,
            "grants": grants,
            "things": _enterprise_things(request),
            "problems": problems or {},
            "entered": entered or {"valid_until": services.default_until(today)},
            "is_current": services.is_current,
        },
        status_code=status,
    )


async def agents_page(request: Request) -> Response:
    return await _page(request, _legal_representative(request))


async def grant(request: Request) -> Response:
    actor = _legal_representative(request)
    form = await request.form()
    data = services.GrantForm(
        agent_name=str(form.get("agent_name", "")),
        agent_id_number=str(form.get("agent_id_number", "")),
        valid_until=str(form.get("valid_until", "")),
        all_matters=form.get("scope") != "chosen",
        thing_codes=tuple(str(v) for v in form.getlist("thing_codes")),
        license_rights=form.get("license_rights") == "yes",
    )
    allowed = {t.code for t in _enterprise_things(request)}
    problems = services.validate_grant(data, allowed, datetime.now(UTC).date())
    if problems:
        entered = {**data.__dict__, "scope": "all" if data.all_matters else "chosen"}
        return await _page(request, actor, problems, entered, status=400)
    async with appstate.database(request)() as db:
        await services.grant(db, appstate.cipher(request), actor.subject.id, actor.person_id, data)
        await db.commit()
    return RedirectResponse("/enterprise/agents", status_code=303)


async def end(request: Request) -> Response:
    actor = require_actor(request)
    as_enterprise = (
        actor.subject.id
        if actor.acts_for_enterprise and actor.capacity == "legal_representative"
        else None
    )
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        ended = await services.end(
            db, request.path_params["grant_id"], by_person=person, as_enterprise_id=as_enterprise
        )
        await db.commit()
    if not ended:
        raise HTTPException(404)
    return RedirectResponse(
        "/enterprise/agents" if as_enterprise else "/profile#agents", status_code=303
    )


async def accept(request: Request) -> Response:
    actor = require_actor(request, "L3")
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        accepted = await services.accept(db, person, request.path_params["grant_id"])
        await db.commit()
    if not accepted:
        raise HTTPException(404)
    return RedirectResponse("/profile#agents", status_code=303)


routes = [
    Route("/enterprise/agents", agents_page, name="agents"),
    Route("/enterprise/agents", grant, methods=["POST"], name="agents_grant"),
    Route("/agents/{grant_id:int}/accept", accept, methods=["POST"], name="agents_accept"),
    Route("/agents/{grant_id:int}/end", end, methods=["POST"], name="agents_end"),
]
