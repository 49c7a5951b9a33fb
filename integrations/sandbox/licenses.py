"""A stand-in for the e-license library (电子证照库): the JSON API of docs/licenses.md under
``/api/v1``, behind a bearer API key, over the demo licenses of ``license_demo``.

A holder's list holds the licenses whose holder code matches and those that name the code
as a related party: a newborn's birth certificate is found by either parent's ID number.
Revoked licenses are listed too; ``status`` says so.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from stdnum.cn import ric, uscc

from integrations.sandbox.bearer import BearerKeyMiddleware, http_exception, json_error
from integrations.sandbox.license_demo import demo_licenses
from integrations.sandbox.license_image import render_png
from integrations.sandbox.license_issue import license_from_request
from integrations.sandbox.license_store import RESIDENT_ID, USCC, LicenseStore, StoredLicense

_VALID_CODE = {RESIDENT_ID: ric.is_valid, USCC: uscc.is_valid}


def _store(request: Request) -> LicenseStore:
    store: LicenseStore = request.app.state.store
    return store


def _found(request: Request) -> StoredLicense:
    license_id = str(request.path_params["license_id"])
    if (found := _store(request).licenses.get(license_id)) is None:
        raise HTTPException(404, f"no license {license_id}")
    return found


async def holder_licenses(request: Request) -> Response:
    code, code_type = request.path_params["holder_code"], request.query_params.get("holder_type")
    if code_type not in _VALID_CODE:
        return json_error(400, "holder_type must be 111 (resident ID) or 001 (USCC)")
    if not _VALID_CODE[code_type](code):
        return json_error(400, f"{code!r} is not a valid code of type {code_type}")
    found = _store(request).for_holder(code, code_type)
    return JSONResponse([item.summary_json(relation) for item, relation in found])


async def get_license(request: Request) -> Response:
    return JSONResponse(_found(request).to_json())


async def license_file(request: Request) -> Response:
    return Response(render_png(_found(request)), media_type="image/png")


async def verify(request: Request) -> Response:
    identifier = request.query_params.get("identifier")
    if not identifier:
        return json_error(400, "identifier is required")
    reason = _store(request).verify(identifier)
    return JSONResponse({"identifier": identifier, "valid": reason == "ok", "reason": reason})


async def issue(request: Request) -> Response:
    store = _store(request)
    try:
        new = store.add(license_from_request(json.loads(await request.body()), store))
    except ValueError as exc:  # JSONDecodeError included
        return json_error(400, str(exc))
    return JSONResponse(new.to_json(), status_code=201)


def create_licenses_app(api_key: str) -> Starlette:
    """The library, its API under ``/api/v1`` behind ``api_key``; ``state.store`` holds the
    licenses (tests move its ``today``)."""
    store = LicenseStore()
    for item in demo_licenses(store.today()):
        store.add(item)
    api = Starlette(
        routes=[
            Route("/holders/{holder_code}/licenses", holder_licenses),
            Route("/licenses", issue, methods=["POST"]),
            Route("/licenses/{license_id}", get_license),
            Route("/licenses/{license_id}/file", license_file),
            Route("/verify", verify),
        ],
        middleware=[Middleware(BearerKeyMiddleware, api_key=api_key, realm="licenses")],
        exception_handlers={HTTPException: http_exception},
    )
    api.state.store = store
    app = Starlette(routes=[Mount("/api/v1", api)])
    app.state.store = store
    return app
