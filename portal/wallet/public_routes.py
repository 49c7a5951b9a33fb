"""Pages for people without an account: whoever scans a license's code (``/verify/…``),
and the organisation a holder granted use to (``/use/…``: the grant, each license's
annotated copy inline or as a download). Every view and download is logged for the holder."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.crypto import mask_id_number
from integrations.licenses import License, LicenseLibraryError
from portal import clock
from portal.wallet import copy, grants, services, usage, verification
from portal.wallet.models import UseGrant
from portal.web import appstate

STATUS = {"ok": 200, "license_invalid": 200, "unavailable": 503}


def _private(response: Response) -> Response:
    # Capability URLs: never cached on the way, never sent on as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def verify_page(request: Request) -> Response:
    settings = appstate.settings(request)
    async with appstate.database(request)() as db:
        outcome = await verification.check(
            db, appstate.license_library(request), settings.secret_key, request.path_params["token"]
        )
        await db.commit()
    context = {
        "outcome": outcome,
        "checked_at": clock.china(clock.now()),
        "expires_at": clock.china(outcome.expires_at) if outcome.expires_at else None,
        "masked": mask_id_number,
    }
    status = STATUS.get(outcome.status, 410)
    response = appstate.templates(request).render(
        request, "wallet/verify.html", context, status_code=status
    )
    return _private(response)


async def _grant(request: Request) -> tuple[UseGrant, str]:
    async with appstate.database(request)() as db:
        grant = await grants.by_token(db, request.path_params["token"])
    if grant is None:
        raise HTTPException(404)
    return grant, grants.state(grant)


async def use_page(request: Request) -> Response:
    grant, state = await _grant(request)
    context = {
        "grant": grant,
        "state": state,
        "token": request.path_params["token"],
        "until": clock.china(grant.valid_until).date(),
    }
    response = appstate.templates(request).render(
        request, "wallet/use.html", context, status_code=200 if state == "active" else 410
    )
    return _private(response)


async def _source(request: Request) -> tuple[UseGrant, License, bytes, str] | Response:
    """The grant, its license and the license picture; or the page that says why not."""
    grant, state = await _grant(request)
    index = request.path_params["index"]
    if state != "active" or not 0 <= index < len(grant.licenses):
        return await use_page(request)
    chosen: dict[str, Any] = grant.licenses[index]
    lib = appstate.license_library(request)
    try:
        license = await lib.get(str(chosen["id"]))
        image, image_type = await lib.file(license.id)
    except LicenseLibraryError as exc:
        raise HTTPException(503) from exc
    if license.identifier != chosen.get("identifier") or not license.usable_on(services.today()):
        context = {"grant": grant, "state": "license_invalid"}
        response = appstate.templates(request).render(
            request, "wallet/use.html", context, status_code=410
        )
        return _private(response)
    return grant, license, image, image_type


async def _log(request: Request, grant: UseGrant, license: License, action: str) -> None:
    async with appstate.database(request)() as db:
        usage.record(
            db,
            subject_kind=grant.subject_kind,
            subject_id=grant.subject_id,
            license_id=license.id,
            license_name=license.name,
            action=action,
            who=f"{grant.org_name}（{grant.org_uscc}）",
            reason=grant.reason,
            grant_id=grant.id,
        )
        await db.commit()


def _annotation(grant: UseGrant) -> str:
    until: date = clock.china(grant.valid_until).date()
    return copy.watermark(grant.org_name, grant.reason, until)


async def use_copy(request: Request) -> Response:
    """One license's annotated copy as PDF: inline to view, ``?download=1`` to save."""
    found = await _source(request)
    if isinstance(found, Response):
        return found
    grant, license, image, image_type = found
    downloading = request.query_params.get("download") == "1"
    html = appstate.templates(request).render_string(
        request,
        "wallet/copy_pdf.html",
        {
            "grant": grant,
            "license": license,
            "image": copy.data_uri(image, image_type),
            "watermark": _annotation(grant),
            "made_at": clock.china(clock.now()),
            "masked": mask_id_number,
        },
    )
    pdf = await copy.pdf(html)
    await _log(request, grant, license, "download" if downloading else "view")
    filename = f"jiazhu-{license.number}.pdf"
    disposition = "attachment" if downloading else "inline"
    headers = {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}"}
    return _private(Response(pdf, media_type="application/pdf", headers=headers))


async def use_copy_image(request: Request) -> Response:
    """The annotated copy as a picture, shown inline where PDFs are not (WeChat)."""
    found = await _source(request)
    if isinstance(found, Response):
        return found
    grant, license, image, _image_type = found
    png = await run_in_threadpool(copy.annotated_png, image, _annotation(grant))
    await _log(request, grant, license, "view")
    headers = {"Content-Disposition": "inline"}
    return _private(Response(png, media_type="image/png", headers=headers))


routes = [
    Route("/verify/{token:str}", verify_page, name="wallet_verify"),
    Route("/use/{token:str}", use_page, name="wallet_use"),
    Route("/use/{token:str}/{index:int}/copy.pdf", use_copy, name="wallet_use_copy"),
    Route("/use/{token:str}/{index:int}/copy.png", use_copy_image, name="wallet_use_image"),
]
