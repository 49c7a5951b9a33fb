"""The ``/v1`` endpoints of docs/intake-api.md §4. Every write goes through ``write``, which
applies the checks in the contract's order — token, scope, media type and size, then the
Idempotency-Key (§5) — and stores the processed answer under the key; ``process`` functions
only hold the business of each endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from integrations.sandbox.intake_auth import bearer, missing_scope, unauthorized
from integrations.sandbox.intake_counter import review, take_package
from integrations.sandbox.intake_idempotency import claim, fingerprint, finish, parse_key, release
from integrations.sandbox.intake_models import ApplicationRecord, IntakeClient, Json
from integrations.sandbox.intake_problems import json_response, problem, request_id
from integrations.sandbox.intake_store import IntakeStore
from integrations.sandbox.intake_validation import (
    check_submission,
    check_supplement,
    check_withdrawal,
)
from integrations.sandbox.intake_writes import Refusal, supplement, withdraw

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
Process = Callable[[Request, IntakeStore, IntakeClient, Json], Awaitable[Response]]


def _store(request: Request) -> IntakeStore:
    store: IntakeStore = request.app.state.store
    return store


async def submit(request: Request) -> Response:
    return await write(request, "/applications", _submit)


async def supplements(request: Request) -> Response:
    path = f"/applications/{request.path_params['application_id']}/supplements"
    return await write(request, path, _supplement)


async def withdrawals(request: Request) -> Response:
    path = f"/applications/{request.path_params['application_id']}/withdrawals"
    return await write(request, path, _withdraw)


async def read(request: Request) -> Response:
    store = _store(request)
    token = bearer(request)
    if token is None:
        return unauthorized(request)
    if "applications.read" not in token.scopes:
        return missing_scope(request, "applications.read")
    await _latency(store)
    found = _application(request, store, token.client)
    if isinstance(found, Response):
        return found
    return json_response(request, found.to_json(), headers={"cache-control": "no-store"})


async def write(request: Request, path: str, process: Process) -> Response:
    store = _store(request)
    token = bearer(request)
    if token is None:
        return unauthorized(request)
    if "applications.write" not in token.scopes:
        return missing_scope(request, "applications.write")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        detail = f"Content-Type was {media_type or 'missing'}; only application/json is accepted."
        return problem(request, 415, "unsupported-media-type", detail)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        detail = f"The body is {len(raw)} bytes; the limit is {MAX_BODY}. Send files by URL."
        return problem(request, 413, "payload-too-large", detail)
    key = parse_key(request)
    if isinstance(key, Response):
        return key
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return problem(request, 400, "malformed-request", f"The body is not JSON: {exc}.")
    if not isinstance(body, dict):
        return problem(request, 400, "malformed-request", "The body must be a JSON object.")
    client_id = token.client.client_id
    found = claim(request, store, client_id, key, fingerprint("POST", path, body))
    if found.answer is not None:
        found.answer.headers["x-request-id"] = request_id(request)
        return found.answer
    try:
        await _latency(store)
        response = await process(request, store, token.client, body)
    except Exception:
        log.exception("intake write failed")
        detail = "The platform failed while handling the request. Retry with the same key and body."
        response = problem(request, 500, "server-error", detail)
    except BaseException:  # cancelled: the client went away before the effect was stored
        release(store, client_id, key)
        raise
    finish(store, client_id, key, response)
    return response


async def _submit(
    request: Request, store: IntakeStore, client: IntakeClient, body: Json
) -> Response:
    code, application_id = body.get("one_thing"), body.get("application_id")
    if isinstance(code, str) and code in store.catalog.things and not client.enabled_for(code):
        return problem(request, 403, "forbidden", f"This client is not enabled for {code!r}.")
    if isinstance(application_id, str) and (client.client_id, application_id) in store.applications:
        existing = store.applications[(client.client_id, application_id)]
        detail = (
            f"Application {application_id!r} was submitted on {existing.to_json()['created_at']} "
            "with another Idempotency-Key. GET it instead of submitting again."
        )
        url = _url(store, application_id)
        return problem(
            request,
            422,
            "application-exists",
            detail,
            application_id=application_id,
            application_url=url,
        )
    if errors := check_submission(body, store.catalog):
        return _invalid(request, errors)
    application = take_package(store, client, body)
    store.applications[(client.client_id, application.application_id)] = application
    store.spawn(review(store, application))
    location = {"location": _url(store, application.application_id)}
    return json_response(request, application.to_json(), 201, location)


async def _supplement(
    request: Request, store: IntakeStore, client: IntakeClient, body: Json
) -> Response:
    found = _application(request, store, client)
    if isinstance(found, Response):
        return found
    if errors := check_supplement(body, found.thing, store.catalog):
        return _invalid(request, errors)
    async with found.lock:
        refusal = supplement(store, found, body)
        return _answer(request, found, refusal)


async def _withdraw(
    request: Request, store: IntakeStore, client: IntakeClient, body: Json
) -> Response:
    found = _application(request, store, client)
    if isinstance(found, Response):
        return found
    if errors := check_withdrawal(body):
        return _invalid(request, errors)
    async with found.lock:
        refusal = withdraw(store, found, body)
        return _answer(request, found, refusal)


def _answer(request: Request, application: ApplicationRecord, refusal: Refusal | None) -> Response:
    if refusal is None:
        return json_response(request, application.to_json())
    return problem(request, 422, refusal.kind, refusal.detail, **refusal.extensions)


def _application(
    request: Request, store: IntakeStore, client: IntakeClient
) -> ApplicationRecord | Response:
    application_id = str(request.path_params["application_id"])
    found = store.applications.get((client.client_id, application_id))
    if found is None:
        detail = f"This client has no application {application_id!r}."
        return problem(request, 404, "not-found", detail)
    return found


def _invalid(request: Request, errors: list[Json]) -> Response:
    detail = (
        f"{len(errors)} problems; nothing was stored. Each entry of errors points into the body."
    )
    return problem(request, 422, "validation-failed", detail, errors=errors)


def _url(store: IntakeStore, application_id: str) -> str:
    return f"{store.base_url}/applications/{application_id}"


async def _latency(store: IntakeStore) -> None:
    if store.faults.latency_ms > 0:
        await asyncio.sleep(store.faults.latency_ms / 1000)
