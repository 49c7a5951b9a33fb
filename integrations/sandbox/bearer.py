"""Bearer API keys and JSON errors for the sandbox's data APIs (licenses, registry).

Every answer that is not a success is ``{"error": <code>, "message": <text>}``, the 404 of
an unknown path and the 405 of a wrong method included, so a client never has to parse
Starlette's plain-text pages.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

_CODES = {400: "invalid_request", 401: "unauthorized", 404: "not_found"}
_CODES |= {405: "method_not_allowed"}


def json_error(status_code: int, message: str, *, error: str | None = None) -> JSONResponse:
    body = {"error": error or _CODES.get(status_code, "error"), "message": message}
    return JSONResponse(body, status_code=status_code)


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the JSON shape above."""
    status_code = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return json_error(status_code, detail)


class BearerKeyMiddleware:
    """Refuse (401) any request without ``Authorization: Bearer <api_key>``."""

    def __init__(self, app: ASGIApp, api_key: str, realm: str) -> None:
        self.app = app
        self.api_key = api_key.encode()
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        response = json_error(401, "a valid bearer API key is required")
        response.headers["www-authenticate"] = f'Bearer realm="{self.realm}"'
        await response(scope, receive, send)

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            key.strip().encode(), self.api_key
        )
