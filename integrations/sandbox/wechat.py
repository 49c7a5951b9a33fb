"""A stand-in for the WeChat server API, with its real paths, parameters and JSON shapes.

WeChat answers HTTP 200 whatever happens and reports failures as ``errcode``/``errmsg``;
so does this. Login codes behave like ``wx.login()`` codes: one WeChat user, five minutes,
one use (40029 when unknown or expired, 40163 when used again). ``/sandbox/*`` is not
WeChat: it is how tests and the demo stand in for the phone, issuing a login code for a
WeChat user and reading back the subscribe messages that were sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.sandbox.people import person_by_sub

CODE_LIFETIME = 300
TOKEN_LIFETIME = 7200
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


@dataclass
class _LoginCode:
    openid: str
    expires_at: float
    used: bool = False


@dataclass
class WeChatStore:
    appid: str
    secret: str
    clock: Callable[[], float] = time.time
    access_tokens: dict[str, float] = field(default_factory=dict)
    codes: dict[str, _LoginCode] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def credentials_error(self, appid: str | None, secret: str | None) -> dict[str, Any] | None:
        if appid != self.appid:
            return _failure(40013, "invalid appid")
        if not hmac.compare_digest((secret or "").encode(), self.secret.encode()):
            return _failure(40125, "invalid appsecret")
        return None

    def issue_token(self) -> str:
        now = self.clock()
        self.access_tokens = {k: v for k, v in self.access_tokens.items() if v > now}
        token = secrets.token_urlsafe(48)
        self.access_tokens[token] = now + TOKEN_LIFETIME
        return token

    def token_error(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return _failure(41001, "access_token missing")
        expires_at = self.access_tokens.get(token)
        if expires_at is None:
            return _failure(40001, "invalid credential, access_token is invalid or not latest")
        if self.clock() >= expires_at:
            return _failure(42001, "access_token expired")
        return None

    def issue_code(self, openid: str) -> str:
        now = self.clock()
        self.codes = {k: v for k, v in self.codes.items() if v.expires_at > now}
        code = secrets.token_urlsafe(24)
        self.codes[code] = _LoginCode(openid=openid, expires_at=now + CODE_LIFETIME)
        return code

    def redeem(self, js_code: str) -> str | dict[str, Any]:
        """The openid behind a login code, or WeChat's error for it."""
        login = self.codes.get(js_code)
        if login is None or self.clock() >= login.expires_at:
            return _failure(40029, "invalid code")
        if login.used:
            return _failure(40163, "code been used")
        login.used = True
        return login.openid


def _failure(errcode: int, errmsg: str) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg}


def unionid_for(openid: str) -> str:
    """A stable unionid per WeChat user, shaped like the real ones."""
    digest = hashlib.sha256(f"unionid:{openid}".encode()).digest()
    return "oZ" + base64.urlsafe_b64encode(digest).decode()[:26]


def _store(request: Request) -> WeChatStore:
    store: WeChatStore = request.app.state.store
    return store


async def access_token(request: Request) -> Response:
    store, query = _store(request), request.query_params
    if query.get("grant_type") != "client_credential":
        return JSONResponse(_failure(40002, "invalid grant_type"))
    if error := store.credentials_error(query.get("appid"), query.get("secret")):
        return JSONResponse(error)
    return JSONResponse({"access_token": store.issue_token(), "expires_in": TOKEN_LIFETIME})


async def jscode2session(request: Request) -> Response:
    store, query = _store(request), request.query_params
    if error := store.credentials_error(query.get("appid"), query.get("secret")):
        return JSONResponse(error)
    if query.get("grant_type") != "authorization_code":
        return JSONResponse(_failure(40002, "invalid grant_type"))
    js_code = query.get("js_code")
    if not js_code:
        return JSONResponse(_failure(41008, "missing code"))
    openid = store.redeem(js_code)
    if isinstance(openid, dict):
        return JSONResponse(openid)
    session_key = base64.b64encode(secrets.token_bytes(16)).decode()
    return JSONResponse(
        {"openid": openid, "unionid": unionid_for(openid), "session_key": session_key}
    )


async def subscribe_send(request: Request) -> Response:
    store = _store(request)
    if error := store.token_error(request.query_params.get("access_token")):
        return JSONResponse(error)
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse(_failure(47001, "data format error"))
    if not isinstance(body, dict) or not _OPENID.match(str(body.get("touser", ""))):
        return JSONResponse(_failure(40003, "invalid openid"))
    if not body.get("template_id"):
        return JSONResponse(_failure(40037, "invalid template_id"))
    if problem := _data_problem(body.get("data")):
        return JSONResponse(_failure(47003, f"argument invalid! {problem}"))
    sent_at = datetime.fromtimestamp(store.clock(), UTC).isoformat(timespec="seconds")
    store.messages.append({**body, "sent_at": sent_at})
    return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": len(store.messages)})


def _data_problem(data: object) -> str | None:
    """WeChat's own wording for template data that is not ``{key: {"value": str}}``."""
    if not isinstance(data, dict) or not data:
        return "data is empty"
    for key, item in data.items():
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            return f"data.{key}.value invalid"
    return None


async def sandbox_login(request: Request) -> Response:
    """Stand-in for ``wx.login()`` on the phone: ``openid=…`` or ``person=<demo sub>``."""
    query = request.query_params
    openid = query.get("openid")
    if sub := query.get("person"):
        person = person_by_sub(sub)
        if person is None:
            return JSONResponse({"error": f"no demo person {sub!r}"}, status_code=404)
        openid = person.wechat_openid
    if not openid or not _OPENID.match(openid):
        return JSONResponse({"error": "give openid=<openid> or person=<sub>"}, status_code=400)
    code = _store(request).issue_code(openid)
    return JSONResponse({"code": code, "expires_in": CODE_LIFETIME})


async def sandbox_messages(request: Request) -> Response:
    """What was sent, oldest first; ``touser=<openid>`` narrows it to one WeChat user."""
    messages = _store(request).messages
    if touser := request.query_params.get("touser"):
        messages = [message for message in messages if message.get("touser") == touser]
    return JSONResponse(messages)


def create_wechat_app(appid: str, secret: str) -> Starlette:
    """The WeChat API for one mini-program (``appid``/``secret``)."""
    app = Starlette(
        routes=[
            Route("/cgi-bin/token", access_token),
            Route("/sns/jscode2session", jscode2session),
            Route("/cgi-bin/message/subscribe/send", subscribe_send, methods=["POST"]),
            Route("/sandbox/login", sandbox_login, methods=["GET", "POST"]),
            Route("/sandbox/messages", sandbox_messages),
        ]
    )
    app.state.store = WeChatStore(appid=appid, secret=secret)  # tests move its clock
    return app
