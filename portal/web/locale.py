"""Choose the locale of each request: ?lang=, then the lang cookie, then Accept-Language."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.i18n import negotiate, supported
from portal.web.cookies import request_cookie, set_cookie

LANG_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware:
    def __init__(self, app: ASGIApp, *, default: str, https: bool) -> None:
        self.app = app
        self.default = default
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        chosen = supported(query.get("lang", [""])[0])
        cookie = request_cookie(scope, LANG_COOKIE)
        locale = (
            chosen
            or supported(cookie)
            or negotiate(headers.get(b"accept-language", b"").decode("latin-1"))
            or self.default
        )
        scope.setdefault("state", {})["locale"] = locale
        if not chosen or chosen == cookie:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_cookie(
                    MutableHeaders(scope=message),
                    LANG_COOKIE,
                    locale,
                    https=self.https,
                    max_age=ONE_YEAR,
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
