"""Wallet pages for the holder: the list, the card (亮证) with its refreshing QR code, the
license image and the long-press card image, grants of use and the usage log. Thin: the
rules are in services, verification, grants and usage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.actor import Actor
from auth.crypto import mask_id_number
from auth.guards import require_actor
from integrations.licenses import LicenseLibraryError
from portal import clock
from portal.wallet import access, card, grants, services, usage, verification
from portal.wallet.access import Owner
from portal.wallet.services import Found
from portal.web import appstate

SESSION_FIELDS = "wallet_disclosed"


async def _owners(request: Request, actor: Actor) -> list[Owner]:
    async with appstate.database(request)() as db:
        return await access.owners(db, appstate.cipher(request), actor)


async def _found(request: Request, actor: Actor) -> Found:
    owners = await _owners(request, actor)
    lib = appstate.license_library(request)
    try:
        found = await services.find(
            lib, owners, request.path_params["license_id"], services.today()
        )
    except LicenseLibraryError as exc:
        raise HTTPException(503) from exc
    if found is None:
        raise HTTPException(404)
    return found


def _render(request: Request, name: str, context: dict[str, Any], **kwargs: Any) -> Response:
    return appstate.templates(request).render(request, name, context, **kwargs)


async def wallet_page(request: Request) -> Response:
    actor = require_actor(request)
    owners = await _owners(request, actor)
    lib = appstate.license_library(request)
    found = await services.wallets(lib, owners, services.today())
    catalog = appstate.catalog(request)
    return _render(
        request,
        "wallet/wallet.html",
        {
            "wallets": found,
            "renewals": services.renewals(catalog.catalog),
            "things": catalog,
            "masked": mask_id_number,
        },
    )


def _disclosed(request: Request, license_id: str) -> tuple[str, ...]:
    chosen = request.session.get(SESSION_FIELDS, {}).get(license_id)
    return services.chosen_fields(chosen)


async def _issue(request: Request, actor: Actor, found: Found) -> dict[str, Any]:
    settings = appstate.settings(request)
    fields = _disclosed(request, found.license.id)
    async with appstate.database(request)() as db:
        issued = await verification.issue(
            db, settings.secret_key, settings.wallet_token_minutes, actor.person_id, found, fields
        )
        await db.commit()
    url = f"{settings.base_url}/verify/{issued.token}"
    return {
        "verify_url": url,
        "qr_svg": Markup(segno.make(url, error="m").svg_inline(scale=4, title=url)),
        "issued_at": clock.china(issued.issued_at),
        "expires_at": clock.china(issued.expires_at),
        "refresh_seconds": max(30, settings.wallet_token_minutes * 60 - 60),
        "disclosed": fields,
    }


async def card_page(request: Request) -> Response:
    actor = require_actor(request)
    found = await _found(request, actor)
    context: dict[str, Any] = {
        "found": found,
        "masked": mask_id_number,
        "jurisdiction": services.jurisdiction_name(found.license.jurisdiction),
    }
    if found.entry.state in ("valid", "expiring"):
        context |= await _issue(request, actor, found)
    context["disclosable"] = services.DISCLOSABLE
    context["revoked_codes"] = request.query_params.get("stopped") == "1"
    block = "qr" if request.query_params.get("part") == "qr" else None
    response = _render(request, "wallet/card.html", context, block=block)
    response.headers["Cache-Control"] = "no-store"
    return response


async def disclose(request: Request) -> Response:
    actor = require_actor(request)
    found = await _found(request, actor)
    async with request.form() as form:
        chosen = [str(v) for v in form.getlist("fields")]
    saved = dict(request.session.get(SESSION_FIELDS, {}))
    saved[found.license.id] = list(services.chosen_fields(chosen))
    request.session[SESSION_FIELDS] = saved
    return RedirectResponse(f"/wallet/licenses/{found.license.id}#qr", status_code=303)


async def stop_codes(request: Request) -> Response:
    actor = require_actor(request)
    found = await _found(request, actor)
    async with appstate.database(request)() as db:
        await verification.revoke_all(db, found.owner.kind, found.owner.id, found.license.id)
        await db.commit()
    return RedirectResponse(f"/wallet/licenses/{found.license.id}?stopped=1", status_code=303)


async def license_image(request: Request) -> Response:
    """The library's picture of the license, inline (WeChat's web-view shows, never saves)."""
    actor = require_actor(request)
    found = await _found(request, actor)
    try:
        content, content_type = await appstate.license_library(request).file(found.license.id)
    except LicenseLibraryError as exc:
        raise HTTPException(503) from exc
    return Response(
        content,
        media_type=content_type,
        headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"},
    )


async def card_image(request: Request) -> Response:
    actor = require_actor(request)
    found = await _found(request, actor)
    if found.entry.state not in ("valid", "expiring"):
        raise HTTPException(404)
    issued = await _issue(request, actor, found)
    license = found.license
    rows = [
        ("证照编号", license.number),
        ("持证主体", license.holder.name),
        ("发证机关", license.issuer.name),
        ("有效期至", license.valid_until.isoformat() if license.valid_until else "长期"),
    ]
    stamp = issued["issued_at"].strftime("%Y-%m-%d %H:%M:%S")
    until = issued["expires_at"].strftime("%H:%M")
    footer = f"生成于 {stamp}（北京时间）· 核验码 {until} 前有效"
    png = card.render(license.name, rows, issued["verify_url"], footer)
    return Response(
        png,
        media_type="image/png",
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )


# Grants of use ------------------------------------------------------------------------------


async def grants_page(request: Request) -> Response:
    actor = require_actor(request)
    owners = await _owners(request, actor)
    async with appstate.database(request)() as db:
        found = await grants.of_owners(db, owners)
    return _render(
        request,
        "wallet/grants.html",
        {"grants": found, "state": grants.state, "owners": {o.key: o for o in owners}},
    )


async def _grant_form(
    request: Request,
    actor: Actor,
    found: Found,
    problems: dict[str, str] | None = None,
    entered: dict[str, Any] | None = None,
) -> Response:
    lib = appstate.license_library(request)
    wallet = await services.wallet(lib, found.owner, services.today())
    usable = [e for e in wallet.entries if e.state in ("valid", "expiring")]
    default_until = (services.today() + timedelta(days=30)).isoformat()
    return _render(
        request,
        "wallet/grant_new.html",
        {
            "found": found,
            "usable": usable,
            "problems": problems or {},
            "entered": entered
            or {"valid_until": default_until, "license_ids": (found.license.id,)},
        },
        status_code=400 if problems else 200,
    )


async def grant_new(request: Request) -> Response:
    actor = require_actor(request)
    return await _grant_form(request, actor, await _found(request, actor))


async def grant_create(request: Request) -> Response:
    actor = require_actor(request)
    found = await _found(request, actor)
    async with request.form() as form:
        data = grants.GrantForm(
            org_name=str(form.get("org_name", "")),
            org_uscc=str(form.get("org_uscc", "")),
            reason=str(form.get("reason", "")),
            valid_until=str(form.get("valid_until", "")),
            license_ids=tuple(str(v) for v in form.getlist("license_ids")),
        )
    lib = appstate.license_library(request)
    wallet = await services.wallet(lib, found.owner, services.today())
    usable = {e.license.id: e.license for e in wallet.entries if e.state in ("valid", "expiring")}
    problems = grants.validate(data, set(usable), services.today())
    if problems:
        return await _grant_form(request, actor, found, problems, dict(data.__dict__))
    chosen = [
        {
            "id": i,
            "identifier": usable[i].identifier,
            "name": usable[i].name,
            "number": usable[i].number,
        }
        for i in dict.fromkeys(data.license_ids)
    ]
    async with appstate.database(request)() as db:
        grant, _token = await grants.create(
            db, appstate.cipher(request), found.owner, actor.person_id, data, chosen
        )
        await db.commit()
    return RedirectResponse(f"/wallet/grants/{grant.id}", status_code=303)


async def _owned_grant(request: Request, actor: Actor) -> Any:
    owners = await _owners(request, actor)
    async with appstate.database(request)() as db:
        grant = await grants.owned(db, owners, request.path_params["grant_id"])
    if grant is None:
        raise HTTPException(404)
    return grant


async def grant_page(request: Request) -> Response:
    actor = require_actor(request)
    grant = await _owned_grant(request, actor)
    token = grants.link_token(appstate.cipher(request), grant)
    url = f"{appstate.settings(request).base_url}/use/{token}" if token else None
    context = {
        "grant": grant,
        "state": grants.state(grant),
        "link": url,
        "qr_svg": Markup(segno.make(url, error="m").svg_inline(scale=3, title=url)) if url else "",
    }
    return _render(request, "wallet/grant.html", context)


async def grant_revoke(request: Request) -> Response:
    actor = require_actor(request)
    owners = await _owners(request, actor)
    async with appstate.database(request)() as db:
        grant = await grants.owned(db, owners, request.path_params["grant_id"])
        if grant is None:
            raise HTTPException(404)
        grants.revoke(grant)
        await db.commit()
    return RedirectResponse(f"/wallet/grants/{grant.id}", status_code=303)


async def log_page(request: Request) -> Response:
    actor = require_actor(request)
    owners = await _owners(request, actor)
    async with appstate.database(request)() as db:
        entries = await usage.log_of(db, owners)
    return _render(
        request,
        "wallet/log.html",
        {"entries": entries, "owners": {o.key: o for o in owners}, "china": clock.china},
    )


routes = [
    Route("/wallet", wallet_page, name="wallet"),
    Route("/wallet/licenses/{license_id:str}", card_page, name="wallet_card"),
    Route("/wallet/licenses/{license_id:str}/disclose", disclose, methods=["POST"]),
    Route("/wallet/licenses/{license_id:str}/stop", stop_codes, methods=["POST"]),
    Route("/wallet/licenses/{license_id:str}/image", license_image, name="wallet_image"),
    Route("/wallet/licenses/{license_id:str}/card.png", card_image, name="wallet_card_png"),
    Route("/wallet/licenses/{license_id:str}/grant", grant_new, name="wallet_grant_new"),
    Route("/wallet/licenses/{license_id:str}/grant", grant_create, methods=["POST"]),
    Route("/wallet/grants", grants_page, name="wallet_grants"),
    Route("/wallet/grants/{grant_id:int}", grant_page, name="wallet_grant"),
    Route("/wallet/grants/{grant_id:int}/revoke", grant_revoke, methods=["POST"]),
    Route("/wallet/log", log_page, name="wallet_log"),
]
