"""CSRF protection for every state-changing request (signed double-submit cookie).

A random secret lives in the ``csrftoken`` cookie; pages embed it masked with a fresh salt
(so compressed responses do not leak it, BREACH); htmx sends it in ``X-CSRF-Token``, forms in
the ``csrf_token`` field. POST/PUT/PATCH/DELETE must carry a token that unmasks to the cookie's
secret, and a cross-site ``Origin`` is refused outright.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.cookies import cookie_name, request_cookie, set_cookie

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"
HEADER = b"x-csrf-token"
SECRET_BYTES = 32

RejectionRenderer = Callable[[Request, str], Awaitable[Response]]


@dataclass
class CsrfState:
    secret: bytes
    is_new: bool
    used: bool = False

    def token(self) -> str:
        """A masked token for one page; every call gives a different string."""
        self.used = True
        salt = secrets.token_bytes(SECRET_BYTES)
        masked = bytes(a ^ b for a, b in zip(self.secret, salt, strict=True))
        return base64.urlsafe_b64encode(salt + masked).decode().rstrip("=")


def unmask(token: str) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * SECRET_BYTES:
        return None
    salt, masked = raw[:SECRET_BYTES], raw[SECRET_BYTES:]
    return bytes(a ^ b for a, b in zip(salt, masked, strict=True))


def _decode_secret(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        secret = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) == SECRET_BYTES else None


class CsrfMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        https: bool,
        reject: RejectionRenderer,
        exempt_prefixes: tuple[str, ...] = (),
        max_body_bytes: int = 20 * 1024 * 1024,
    ) -> None:
        self.app = app
        self.https = https
        self.cookie = cookie_name("csrftoken", https)
        self.reject = reject
        self.exempt_prefixes = exempt_prefixes
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            await self.app(scope, receive, send)
            return
        secret = _decode_secret(request_cookie(scope, self.cookie))
        state = CsrfState(secret or secrets.token_bytes(SECRET_BYTES), is_new=secret is None)
        scope.setdefault("state", {})["csrf"] = state

        if scope["method"] not in SAFE_METHODS:
            problem, receive = await self._check(scope, receive, secret)
            if problem:
                response = await self.reject(Request(scope, receive), problem)
                await response(scope, receive, send)
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.is_new and state.used:
                encoded = base64.urlsafe_b64encode(state.secret).decode().rstrip("=")
                set_cookie(MutableHeaders(scope=message), self.cookie, encoded, https=self.https)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _check(
        self, scope: Scope, receive: Receive, secret: bytes | None
    ) -> tuple[str | None, Receive]:
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if origin and origin != "null" and not _same_origin(origin, scope):
            return "cross_origin", receive
        if secret is None:
            return "missing_cookie", receive
        token = headers.get(HEADER, b"").decode("latin-1")
        if not token:
            body = await _read_body(receive, self.max_body_bytes)
            if body is None:
                return "too_large", receive
            form = await Request(scope, _replay(body, receive)).form()
            receive = _replay(body, receive)
            value = form.get(FIELD)
            await form.close()
            token = value if isinstance(value, str) else ""
        candidate = unmask(token) if token else None
        if candidate is None or not hmac.compare_digest(candidate, secret):
            return "bad_token", receive
        return None, receive


def _same_origin(origin: str, scope: Scope) -> bool:
    host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
    parsed = urlsplit(origin)
    return parsed.netloc == host and parsed.scheme in ("http", "https")


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
