"""The ceiling for bench/page_throughput.py: a bare Starlette app (no middleware, no database)
rendering the portal's own templates from data held in memory.

At start-up it builds the real portal (``create_app`` from the same ``PORTAL_*`` environment),
requests each page once in-process with the signed-in session cookie, and records what each
handler gave the template (name, context) and what the middleware had put in the request
state (locale, display preferences, the signed-in actor). Every later request renders the
same template from that record: the work left is routing, Jinja2 and the response, so
"portal ÷ ceiling" is the share of the time the portal spends on pages rather than elsewhere.

Environment: the portal's ``PORTAL_*`` settings, ``BENCH_PAGES`` (space-separated paths) and
``BENCH_SESSION`` (the session cookie's value). Served by
``uvicorn bench.page_ceiling:app_factory --factory``.
"""

from __future__ import annotations

import argparse
import os
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings
from portal.templating import Templates
from portal.web import reuse_port
from portal.web.csrf import CsrfState

STATE_KEYS = ("locale", "preferences", "actor")
Record = tuple[str, dict[str, Any], dict[str, Any]]


def capture(paths: list[str], session: str) -> tuple[Templates, dict[str, Record]]:
    """(the portal's templates, what each page's handler rendered)."""
    portal = create_app()
    recorded: dict[str, Record] = {}
    original = Templates.render

    def recording(
        self: Templates,
        request: Request,
        name: str,
        context: Any = None,
        *,
        block: str | None = None,
        status_code: int = 200,
    ) -> Response:
        state = request.scope.get("state", {})
        recorded[request.url.path] = (
            name,
            dict(context or {}),
            {key: state.get(key) for key in STATE_KEYS},
        )
        return original(self, request, name, context, block=block, status_code=status_code)

    Templates.render = recording  # type: ignore[method-assign]
    try:
        with TestClient(portal) as client:
            for path in paths:
                response = client.get(path, headers={"cookie": f"session={session}"})
                assert response.status_code == 200, (path, response.status_code)
    finally:
        Templates.render = original  # type: ignore[method-assign]
    return portal.state.templates, recorded


def ceiling_app(paths: list[str], session: str) -> Starlette:
    templates, recorded = capture(paths, session)
    secret = secrets.token_bytes(32)

    async def page(request: Request) -> Response:
        name, context, state = recorded[request.url.path]
        request.scope["state"] = {**state, "csrf": CsrfState(secret, is_new=False)}
        return templates.render(request, name, context)

    return Starlette(routes=[Route(path, page) for path in paths])


def app_factory() -> Starlette:
    return ceiling_app(os.environ["BENCH_PAGES"].split(), os.environ["BENCH_SESSION"])


def main() -> None:
    """Served as ``portal serve`` serves the portal (the same workers, the same sockets)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--loop", default="asyncio")
    args = parser.parse_args()
    options = {
        "app": "bench.page_ceiling:app_factory",
        "factory": True,
        "host": "127.0.0.1",
        "port": args.port,
        "workers": args.workers,
        "loop": args.loop,
        "access_log": False,
        "log_level": "warning",
    }
    reuse_port.run(options, Settings.from_env().socket_per_worker)


if __name__ == "__main__":
    main()
