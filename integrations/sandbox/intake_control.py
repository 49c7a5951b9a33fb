"""The sandbox's own control routes under ``/sandbox`` (no token, JSON): what a demo or a
test turns to make the platform misbehave on purpose, go faster, or follow a scenario.
They are not part of the contract; docs/sandbox-intake.md describes them.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from stdnum.cn import ric, uscc

from integrations.sandbox.intake_departments import end, settle
from integrations.sandbox.intake_events import announce, move, reason
from integrations.sandbox.intake_store import SCENARIOS, IntakeStore
from integrations.sandbox.intake_time import now


def _store(request: Request) -> IntakeStore:
    store: IntakeStore = request.app.state.store
    return store


async def _body(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object"}, 400)
    return body


def _bad(message: str) -> Response:
    return JSONResponse({"error": message}, 400)


async def stats(request: Request) -> Response:
    return JSONResponse(_store(request).stats())


async def faults(request: Request) -> Response:
    """``error_rate`` (0–1): that share of /v1 requests answer 503 before any effect;
    ``latency_ms``: every /v1 request waits that long first (a write holding its key);
    ``outage``: every /v1 and token request answers 503."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    knobs = _store(request).faults
    rate = body.get("error_rate", knobs.error_rate)
    latency = body.get("latency_ms", knobs.latency_ms)
    outage = body.get("outage", knobs.outage)
    if not isinstance(rate, int | float) or not 0 <= rate <= 1:
        return _bad("error_rate must be a number from 0 to 1")
    if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
        return _bad("latency_ms must be a non-negative integer")
    if not isinstance(outage, bool):
        return _bad("outage must be true or false")
    knobs.error_rate, knobs.latency_ms, knobs.outage = float(rate), latency, outage
    return JSONResponse({"error_rate": knobs.error_rate, "latency_ms": latency, "outage": outage})


async def scenarios(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    code = body.get("id_number") or body.get("uscc")
    scenario = body.get("scenario", "approve")
    if not isinstance(code, str) or not (ric.is_valid(code) or uscc.is_valid(code)):
        return _bad("give a valid id_number or uscc")
    if scenario not in SCENARIOS:
        return _bad(f"scenario must be one of {', '.join(SCENARIOS)}")
    _store(request).scenarios[code] = scenario
    return JSONResponse({"code": code, "scenario": scenario})


async def speed(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    seconds = body.get("seconds_per_working_day")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds <= 0:
        return _bad("seconds_per_working_day must be a positive number")
    _store(request).speed = float(seconds)
    return JSONResponse({"seconds_per_working_day": float(seconds)})


async def webhooks(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, Response):
        return body
    outbox = _store(request).outbox
    shuffle = body.get("shuffle", outbox.shuffle)
    rate = body.get("duplicate_rate", outbox.duplicate_rate)
    if not isinstance(shuffle, bool):
        return _bad("shuffle must be true or false")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0 <= rate <= 1:
        return _bad("duplicate_rate must be a number from 0 to 1")
    outbox.shuffle, outbox.duplicate_rate = shuffle, float(rate)
    return JSONResponse({"shuffle": shuffle, "duplicate_rate": float(rate)})


async def expire_notice(request: Request) -> Response:
    """Let an open supplement notice's deadline pass now: at the intake stage the
    application is closed, at the acceptance stage its items are not accepted."""
    store, notice_id = _store(request), str(request.path_params["notice_id"])
    for application in store.applications.values():
        notice = application.notice(notice_id)
        if notice is None:
            continue
        async with application.lock:
            if notice.status != "open" or notice.kind != "supplement":
                return _bad(f"notice {notice_id} is {notice.status} {notice.kind}")
            at, notice.status = now(), "expired"
            message = "补正期限届满仍未补正，本次申请已终止；如仍需办理，请重新提交申请。"
            if notice.stage == "intake_review":
                items = [i for i in application.items.values() if i.state == "submitted"]
                for item in items:
                    move(application, item, "closed", at)
                application.state, application.concluded_at, application.deadline = (
                    "closed",
                    at,
                    None,
                )
                closure = reason("supplement_overdue", message)
                announce(
                    store,
                    application,
                    "application.closed",
                    at,
                    items=items,
                    notice=notice,
                    closure=closure,
                )
            else:
                for key in notice.items:
                    if application.items[key].state == "supplement_requested":
                        end(
                            store,
                            application,
                            application.items[key],
                            reason("supplement_overdue", message),
                        )
                settle(store, application)
            return JSONResponse(application.to_json())
    return JSONResponse({"error": f"no notice {notice_id}"}, 404)
