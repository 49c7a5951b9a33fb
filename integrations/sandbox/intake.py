"""A stand-in for the government platform's unified intake (统一受理), speaking
docs/intake-api.yaml over real HTTP: the token endpoint at ``/oauth2/token``, the API under
``/v1``, and a simulated counter and departments that move every application along and
report each change to the client's webhook endpoint, signed (Standard Webhooks).

``/sandbox/*`` are the sandbox's own control routes (stats, faults, scenarios, speed,
webhook disorder; docs/sandbox-intake.md). State lives in memory on ``app.state.store``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.sandbox import intake_api, intake_control, intake_ratings
from integrations.sandbox.intake_auth import token
from integrations.sandbox.intake_models import IntakeClient
from integrations.sandbox.intake_problems import http_exception, unavailable
from integrations.sandbox.intake_store import IntakeStore, make_store
from portal.catalog.loader import Catalog, load_catalog

__all__ = ["IntakeClient", "create_intake_app"]

APPLICATION = "/v1/applications/{application_id}"


class Gate:
    """Counts every API answer by status, and answers 503 (before any effect) during an
    outage or for the ``error_rate`` share of requests. ``/sandbox/*`` passes untouched."""

    def __init__(self, app: ASGIApp, store: IntakeStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").removeprefix(scope.get("root_path", ""))
        if scope["type"] != "http" or path.startswith("/sandbox"):
            await self.app(scope, receive, send)
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.store.requests[int(message["status"])] += 1
            await send(message)

        faults = self.store.faults
        failing = faults.error_rate > 0 and random.random() < faults.error_rate
        if faults.outage or (failing and path.startswith("/v1")):
            detail = "The intake service is unavailable (sandbox fault)."
            response = unavailable(Request(scope), detail)
            await response(scope, receive, counting)
            return
        await self.app(scope, receive, counting)


def create_intake_app(
    public_url: str,
    clients: Sequence[IntakeClient],
    catalog: Catalog | None,
    licenses_api: str,
    api_key: str,
    speed: float,
) -> Starlette:
    """The platform at ``public_url`` (where this app is mounted, e.g.
    ``<sandbox>/intake``); results go into the e-license library at ``licenses_api`` with
    ``api_key``. ``catalog`` None loads the default catalog when first needed. One working
    day of the simulation lasts ``speed`` seconds."""

    def source() -> Catalog:
        return catalog if catalog is not None else load_catalog()

    store = make_store(clients, public_url, licenses_api, api_key, speed, source)
    app = Starlette(
        routes=[
            Route("/oauth2/token", token, methods=["POST"]),
            Route("/v1/applications", intake_api.submit, methods=["POST"]),
            Route(APPLICATION, intake_api.read, methods=["GET"]),
            Route(f"{APPLICATION}/supplements", intake_api.supplements, methods=["POST"]),
            Route(f"{APPLICATION}/withdrawals", intake_api.withdrawals, methods=["POST"]),
            Route(f"{APPLICATION}/ratings", intake_ratings.rate, methods=["POST"]),
            Route(f"{APPLICATION}/ratings/{{rating_id}}", intake_ratings.read, methods=["GET"]),
            Route(
                f"{APPLICATION}/ratings/{{rating_id}}/rectification-rating",
                intake_ratings.rate_fix,
                methods=["POST"],
            ),
            Route("/sandbox/stats", intake_control.stats),
            Route("/sandbox/ratings", intake_ratings.control, methods=["POST"]),
            Route("/sandbox/faults", intake_control.faults, methods=["POST"]),
            Route("/sandbox/scenarios", intake_control.scenarios, methods=["POST"]),
            Route("/sandbox/speed", intake_control.speed, methods=["POST"]),
            Route("/sandbox/webhooks", intake_control.webhooks, methods=["POST"]),
            Route(
                "/sandbox/notices/{notice_id}/expire",
                intake_control.expire_notice,
                methods=["POST"],
            ),
        ],
        middleware=[Middleware(Gate, store=store)],
        exception_handlers={HTTPException: http_exception},
    )
    app.state.store = store
    return app
