"""While the database cannot be reached (down, restarting), pages answer 503 with the plain
"try again later" page and ``Retry-After``, logged as one warning line. Handled here, inside
the app, because an exception reaching Starlette's outermost handler is re-raised to the
server after the response: a traceback logged for every request and the connection closed
under a browser that meant to reuse it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.db_errors import database_unavailable

log = logging.getLogger(__name__)
RETRY_AFTER = "5"
COMMITTED = "portal.committed_location"  # the scope key ``committed`` sets

Render = Callable[[Request], Awaitable[Response]]


class DatabaseUnavailableMiddleware:
    def __init__(self, app: ASGIApp, *, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            location = scope.get(COMMITTED)
            if location is not None:
                # The change was made; only what follows its commit (the session's save) failed.
                log.warning("database unavailable after the commit: %s", type(exc).__name__)
                await RedirectResponse(location, status_code=303)(scope, receive, send)
                return
            log.warning("database unavailable: %s", type(exc).__name__)
            response = await self.render(Request(scope, receive))  # with Retry-After
            await response(scope, receive, send)


def committed(request: HTTPConnection, location: str) -> RedirectResponse:
    """The request's change is committed and ``location`` shows it: the answer, also when
    the database goes away before it is sent (a 503 would tell the person nothing happened)."""
    request.scope[COMMITTED] = location
    return RedirectResponse(location, status_code=303)
