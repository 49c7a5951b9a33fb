"""Display preferences: 长辈版 (elder mode) and the font scale a WeChat web-view passes.

Both live in cookies so they persist without an account. The font scale arrives as
``?font_scale=1.4`` (WeChat's 关怀模式 is 23.8 px over 17 px); it is snapped to the steps
the stylesheet has classes for, because the CSP forbids inline styles.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.web.cookies import request_cookie, set_cookie

ELDER_COOKIE = "elder"
SCALE_COOKIE = "font_scale"
FONT_SCALES = (100, 115, 130, 140, 160)
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Preferences:
    elder: bool = False
    font_scale: int = 100  # percent, one of FONT_SCALES


def snap_scale(raw: str | None) -> int | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    if not 0.5 <= value <= 3:
        return None
    percent = value * 100
    return min(FONT_SCALES, key=lambda step: abs(step - percent))


class PreferencesMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        passed = snap_scale(query.get("font_scale", [None])[0])
        stored = snap_scale(request_cookie(scope, SCALE_COOKIE))
        scale = passed or stored or 100
        elder = request_cookie(scope, ELDER_COOKIE) == "1"
        scope.setdefault("state", {})["preferences"] = Preferences(elder=elder, font_scale=scale)
        if passed is None or passed == stored:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                set_cookie(
                    MutableHeaders(scope=message),
                    SCALE_COOKIE,
                    f"{scale / 100:g}",
                    https=self.https,
                    max_age=ONE_YEAR,
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)
