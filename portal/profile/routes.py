"""The profile pages: thin handlers over portal.profile.services."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.actor import capacities
from auth.crypto import mask_id_number, mask_phone
from auth.guards import require_actor
from auth.models import Person
from auth.services import ID_PURPOSE, PHONE_PURPOSE
from portal.agents import services as agents
from portal.profile import services
from portal.web import appstate


async def _page(
    request: Request,
    problems: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    actor = require_actor(request)
    cipher = appstate.cipher(request)
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        if person is None:
            raise HTTPException(404)
        history = await services.consents(db, person.id)
        context: dict[str, Any] = {
            "actor": actor,
            "person": person,
            "id_masked": mask_id_number(cipher.decrypt(person.id_number_encrypted, ID_PURPOSE))
            if person.id_number_encrypted
            else None,
            "phone_masked": mask_phone(cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE))
            if person.phone_encrypted
            else None,
            "entries": await services.entries(db, person.id),
            "consent": services.active_reuse_consent(history),
            "consent_history": history,
            "bindings": await services.bindings(db, person.id),
            "capacities": await capacities(db, person),
            "invitations": await agents.for_agent(db, person),
            "kinds": services.KINDS,
            "problems": problems or {},
            "entered": entered or {},
        }
    return appstate.templates(request).render(
        request, "profile/profile.html", context, status_code=status
    )


async def profile(request: Request) -> Response:
    return await _page(request)


async def add_entry(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    kind, label, value = (str(form.get(k, "")) for k in ("kind", "label", "value"))
    problems = services.validate_entry(kind, label, value)
    if problems:
        return await _page(
            request, problems, {"kind": kind, "label": label, "value": value}, status=400
        )
    async with appstate.database(request)() as db:
        await services.add_entry(db, actor.person_id, kind, label, value)
        await db.commit()
    return RedirectResponse("/profile#contacts", status_code=303)


async def delete_entry(request: Request) -> Response:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        found = await services.delete_entry(db, actor.person_id, request.path_params["entry_id"])
        await db.commit()
    if not found:
        raise HTTPException(404)
    return RedirectResponse("/profile#contacts", status_code=303)


async def consent(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    async with appstate.database(request)() as db:
        if form.get("decision") == "grant":
            await services.grant_reuse(db, actor.person_id)
        else:
            await services.withdraw_reuse(db, actor.person_id)
        await db.commit()
    return RedirectResponse("/profile#consent", status_code=303)


async def unbind(request: Request) -> Response:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        found = await services.unbind(db, actor.person_id, request.path_params["binding_id"])
        await db.commit()
    if not found:
        raise HTTPException(404)
    return RedirectResponse("/profile#wechat", status_code=303)


async def download(request: Request) -> Response:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        data = await services.export(db, appstate.cipher(request), person)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="my-data.json"',
            "cache-control": "no-store",
        },
    )


async def delete_account(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    if form.get("confirm") != "yes":
        return await _page(request, {"confirm": "confirm_delete"}, status=400)
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        await services.delete_account_data(db, person)
        await db.commit()
    request.session.clear()
    return appstate.templates(request).render(request, "profile/deleted.html")


routes = [
    Route("/profile", profile, name="profile"),
    Route("/profile/entries", add_entry, methods=["POST"], name="profile_add_entry"),
    Route(
        "/profile/entries/{entry_id:int}/delete",
        delete_entry,
        methods=["POST"],
        name="profile_delete_entry",
    ),
    Route("/profile/consent", consent, methods=["POST"], name="profile_consent"),
    Route(
        "/profile/wechat/{binding_id:int}/unbind", unbind, methods=["POST"], name="profile_unbind"
    ),
    Route("/profile/data.json", download, name="profile_download"),
    Route("/profile/delete", delete_account, methods=["POST"], name="profile_delete"),
]
