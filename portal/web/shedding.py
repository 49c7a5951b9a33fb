"""A process past its capacity answers the requests beyond ``limit`` at once: 503 with the
"try again later" page in the person's language and ``Retry-After``. Without a limit it kept
accepting them and each waited for a database connection until the pool's timeout, 10 s of a
blank screen before the same 503 (docs/load.md); a load balancer retries a quick 503 on
another process. ``/healthz`` and ``/metrics`` are never shed: a busy process is alive, and
its metrics are what shows it is busy; nor are ``/static/`` files, which need no database and
without which the 503 page itself would arrive without its stylesheet.

The count is this process's own: it measures this process's capacity, so nothing is shared.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.web.metrics import Metrics
from portal.web.unavailable import Render

NEVER_SHED = frozenset({"/healthz", "/metrics"})
NEVER_SHED_UNDER = "/static/"


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, render: Render, metrics: Metrics) -> None:
        self.app = app
        self.limit = limit  # 0: no limit
        self.render = render
        self.metrics = metrics
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.limit
            or scope["path"] in NEVER_SHED
            or scope["path"].startswith(NEVER_SHED_UNDER)
        ):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.metrics.shed.inc()
            response = await self.render(Request(scope, receive))
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
