"""A stand-in for the SMS gateway (短信网关): the JSON API of docs/sms-api.md under ``/api/v1``
behind a bearer API key, modelled on Aliyun SendSms (sign name, template code, template
params, out_id). It sends nothing: every accepted message is recorded in ``SmsStore``.

``/sandbox/*`` is not the gateway's: an HTML list of what was sent, needing no key (it
stands in for the applicant's phone), and the fault knob that makes the API answer
503 (``outage``) or 429 (``throttled``), so retries can be tested.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.sandbox import pages
from integrations.sandbox.bearer import BearerKeyMiddleware, http_exception, json_error

SIGN_NAMES = frozenset({"一件事"})
TEMPLATES: Mapping[str, str] = {
    "YJS_RECEIVED": "您的“${thing}”申请已收件，收件编号${receipt}，可凭此编号查询办理进度。",
    "YJS_ACCEPTED": "您申请的${item}已受理，我们将尽快办理。",
    "YJS_SUPPLEMENT": "您的申请材料需要补正，请在${due}前登录查看补正要求并补交材料。",
    "YJS_RESULT": "您申请的${item}已有办理结果，请登录查看。",
    "YJS_DELIVERED": "您申请的${item}已送达或寄出，${detail}。",
    "YJS_WITHDRAWN": "您的申请已撤回。如仍需办理，可重新提交申请。",
    "YJS_CONCLUDED": "您的申请已办结，感谢您的使用。",
    "YJS_RATE": "您的“${thing}”已办结，欢迎登录对本次服务作出评价（好差评）。",
    "YJS_RECTIFIED": "您对“${thing}”的差评已整改完成，请登录对整改结果作出评价。",
    "YJS_LICENSE_EXPIRING": "您的证照“${license}”将于${date}到期，请及时办理延续或换领。",
    "YJS_ASSIST_REMINDER": "您预约的“${thing}”远程帮办将于${time}开始，请届时登录进入视频帮办。",
}
PARAM_MAX_LENGTH = 35  # Aliyun's limit for a variable of a notification template
_PHONE = re.compile(r"1[3-9]\d{9}")
_OUT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_VARIABLE = re.compile(r"\$\{(\w+)\}")
_BEIJING = timezone(timedelta(hours=8))
_FIELDS = ("phone_number", "sign_name", "template_code", "out_id")


class Refused(Exception):
    """Why the gateway will not send a message: its HTTP status and JSON error code."""

    def __init__(self, status_code: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.error, self.message = status_code, error, message


@dataclass(frozen=True)
class SmsRequest:
    phone_number: str
    sign_name: str
    template_code: str
    template_params: dict[str, str]
    out_id: str


@dataclass(frozen=True)
class SmsMessage:
    message_id: str
    request: SmsRequest
    text: str
    sent_at: datetime
    status: str = "accepted"

    def receipt_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "status": self.status, "text": self.text}

    def to_json(self) -> dict[str, Any]:
        fields = {name: getattr(self.request, name) for name in _FIELDS}
        fields["template_params"] = self.request.template_params
        return self.receipt_json() | fields | {"sent_at": self.sent_at.isoformat()}


@dataclass
class SmsStore:
    sign_names: frozenset[str] = SIGN_NAMES
    templates: Mapping[str, str] = field(default_factory=lambda: dict(TEMPLATES))
    clock: Callable[[], float] = time.time
    messages: list[SmsMessage] = field(default_factory=list)
    outage: bool = False
    throttled: bool = False
    # out_id → message: a replay is found without reading every text sent (a load run sends
    # thousands).
    _by_out_id: dict[str, SmsMessage] = field(default_factory=dict, repr=False)

    def send(self, request: SmsRequest) -> tuple[SmsMessage, bool]:
        """The message for ``request`` and whether it is new (False: ``out_id`` replayed)."""
        text = self.render(request)
        if (earlier := self.by_out_id(request.out_id)) is not None:
            if earlier.request != request:
                raise Refused(
                    409, "out_id_conflict", f"out_id {request.out_id} was used for another message"
                )
            return earlier, False
        sent_at = datetime.fromtimestamp(self.clock(), _BEIJING)
        message = SmsMessage(secrets.token_hex(10), request, text, sent_at)
        self.messages.append(message)
        self._by_out_id[request.out_id] = message
        return message, True

    def render(self, request: SmsRequest) -> str:
        if not _PHONE.fullmatch(request.phone_number):
            raise Refused(422, "invalid_phone_number", "not a mainland mobile number")
        if request.sign_name not in self.sign_names:
            raise Refused(422, "unknown_sign_name", f"sign {request.sign_name!r} not approved")
        template = self.templates.get(request.template_code)
        if template is None:
            raise Refused(422, "unknown_template", f"no template {request.template_code!r}")
        _check_params(set(_VARIABLE.findall(template)), request.template_params)
        body = _VARIABLE.sub(lambda match: request.template_params[match[1]], template)
        return f"【{request.sign_name}】{body}"

    def by_out_id(self, out_id: str) -> SmsMessage | None:
        return self._by_out_id.get(out_id)

    def clear(self) -> None:
        self.messages.clear()
        self._by_out_id.clear()


def _check_params(expected: set[str], params: Mapping[str, str]) -> None:
    if problem := _params_problem(expected, params):
        raise Refused(422, "invalid_template_params", problem)


def _params_problem(expected: set[str], params: Mapping[str, str]) -> str | None:
    if missing := sorted(expected - params.keys()):
        return f"missing {', '.join(missing)}"
    if unknown := sorted(params.keys() - expected):
        return f"the template has no {', '.join(unknown)}"
    too_long = [name for name, value in params.items() if len(value) > PARAM_MAX_LENGTH]
    empty = [name for name, value in params.items() if not value.strip()]
    if too_long or empty:
        return f"empty or longer than {PARAM_MAX_LENGTH}: {', '.join(too_long + empty)}"
    return None


def request_from_json(body: object) -> SmsRequest:
    if not isinstance(body, dict):
        raise Refused(400, "invalid_request", "the body must be a JSON object")
    phone, sign, template, out_id = (body.get(name) for name in _FIELDS)
    if not all(isinstance(value, str) for value in (phone, sign, template, out_id)):
        raise Refused(400, "invalid_request", f"{', '.join(_FIELDS)} must be strings")
    params = body.get("template_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise Refused(400, "invalid_request", "template_params must map names to strings")
    if not _OUT_ID.fullmatch(str(out_id)):
        raise Refused(400, "invalid_request", "out_id must be 1-64 of A-Z a-z 0-9 _ . : -")
    return SmsRequest(str(phone), str(sign), str(template), params, str(out_id))


def _store(request: Request) -> SmsStore:
    store: SmsStore = request.app.state.store
    return store


async def send_message(request: Request) -> Response:
    try:
        sms = request_from_json(json.loads(await request.body()))
        message, new = _store(request).send(sms)
    except ValueError:  # JSONDecodeError
        return json_error(400, "the body is not JSON")
    except Refused as refused:
        return json_error(refused.status_code, refused.message, error=refused.error)
    return JSONResponse(message.receipt_json(), status_code=201 if new else 200)


async def list_messages(request: Request) -> Response:
    """Send records, oldest first, narrowed by ``phone_number`` and ``out_id`` when given."""
    query, messages = request.query_params, _store(request).messages
    if phone := query.get("phone_number"):
        messages = [m for m in messages if m.request.phone_number == phone]
    if out_id := query.get("out_id"):
        messages = [m for m in messages if m.request.out_id == out_id]
    return JSONResponse([message.to_json() for message in messages])


class FaultMiddleware:
    """What a gateway answers while down (503) or throttling (429), before any key check."""

    def __init__(self, app: ASGIApp, store: SmsStore) -> None:
        self.app, self.store = app, store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (self.store.outage or self.store.throttled):
            if self.store.outage:
                response = json_error(503, "the gateway is down", error="service_unavailable")
            else:
                response = json_error(429, "too many messages", error="rate_limited")
            response.headers["retry-after"] = "60"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def faults(request: Request) -> Response:
    """``{"outage": bool, "throttled": bool}``, either key optional; answers the new state."""
    store = _store(request)
    if request.method == "POST":
        try:
            body = json.loads(await request.body())
        except ValueError:
            return json_error(400, "the body is not JSON")
        knobs = ("outage", "throttled")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(knob, False), bool) for knob in knobs
        ):
            return json_error(400, "give outage and/or throttled as booleans")
        store.outage = body.get("outage", store.outage)
        store.throttled = body.get("throttled", store.throttled)
    return JSONResponse({"outage": store.outage, "throttled": store.throttled})


_MESSAGES_PAGE = """\
{% extends "layout.html" %}
{% block title %}已发送的短信{% endblock %}
{% block heading %}短信网关{% endblock %}
{% block main %}
<h2>已发送的短信</h2>
{% if store.outage %}<p class="error">故障模拟：接口正在返回 503。</p>{% endif %}
{% if store.throttled %}<p class="error">故障模拟：接口正在返回 429。</p>{% endif %}
{% if messages %}
<table>
<thead><tr><th>时间</th><th>手机号</th><th>模板</th><th>内容</th><th>out_id</th></tr></thead>
<tbody>
{% for message in messages %}
<tr><td>{{ message.sent_at.strftime("%Y-%m-%d %H:%M:%S") }}</td>
<td>{{ message.request.phone_number }}</td><td><code>{{ message.request.template_code }}</code></td>
<td>{{ message.text }}</td><td><code>{{ message.request.out_id }}</code></td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p>还没有发送过短信。</p>
{% endif %}
{% endblock %}
"""

# One layout for every sandbox page: extend pages.py's rather than copy it.
_ENV = Environment(
    loader=DictLoader({"layout.html": pages._LAYOUT, "messages.html": _MESSAGES_PAGE}),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
)


async def sandbox_messages(request: Request) -> Response:
    """Every recorded message, newest first, as the phones would have shown them."""
    store = _store(request)
    stylesheet = f"{request.scope.get('root_path', '')}/sandbox/sandbox.css"
    context = {"stylesheet": stylesheet, "store": store, "messages": store.messages[::-1]}
    html = _ENV.get_template("messages.html").render(context)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


async def stylesheet(request: Request) -> Response:
    return pages.stylesheet()


def create_sms_app(api_key: str) -> Starlette:
    """The gateway, its API under ``/api/v1`` behind ``api_key``; ``state.store`` holds what
    was sent and the fault knobs."""
    store = SmsStore()
    api = Starlette(
        routes=[
            Route("/messages", send_message, methods=["POST"]),
            Route("/messages", list_messages),
        ],
        middleware=[
            Middleware(FaultMiddleware, store=store),
            Middleware(BearerKeyMiddleware, api_key=api_key, realm="sms"),
        ],
        exception_handlers={HTTPException: http_exception},
    )
    api.state.store = store
    app = Starlette(
        routes=[
            Mount("/api/v1", api),
            Route("/sandbox/messages", sandbox_messages),
            Route("/sandbox/faults", faults, methods=["GET", "POST"]),
            Route("/sandbox/sandbox.css", stylesheet),
        ]
    )
    app.state.store = store
    return app
