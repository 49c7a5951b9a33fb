"""The stand-in WeChat API, with WeChat's own paths, parameters and error codes."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2
import pytest

from integrations.sandbox.people import person_by_sub
from integrations.sandbox.wechat import CODE_LIFETIME, unionid_for
from tests.integrations.helpers import WECHAT_APPID, WECHAT_SECRET, Sandbox


def access_token(http: httpx2.Client, sandbox: Sandbox) -> str:
    params = {"grant_type": "client_credential", "appid": WECHAT_APPID, "secret": WECHAT_SECRET}
    body = http.get(f"{sandbox.wechat}/cgi-bin/token", params=params).json()
    assert body["expires_in"] == 7200
    token: str = body["access_token"]
    return token


def login_code(http: httpx2.Client, sandbox: Sandbox, **params: str) -> str:
    response = http.get(f"{sandbox.wechat}/sandbox/login", params=params)
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


def jscode2session(
    http: httpx2.Client, sandbox: Sandbox, code: str, **overrides: str
) -> dict[str, Any]:
    params = {
        "appid": WECHAT_APPID,
        "secret": WECHAT_SECRET,
        "js_code": code,
        "grant_type": "authorization_code",
        **overrides,
    }
    response = http.get(f"{sandbox.wechat}/sns/jscode2session", params=params)
    assert response.status_code == 200  # WeChat reports errors in the body
    body: dict[str, Any] = response.json()
    return body


def test_access_token_needs_the_right_credentials(http: httpx2.Client, sandbox: Sandbox) -> None:
    assert access_token(http, sandbox)
    wrong = http.get(
        f"{sandbox.wechat}/cgi-bin/token",
        params={"grant_type": "client_credential", "appid": WECHAT_APPID, "secret": "nope"},
    ).json()
    assert wrong["errcode"] == 40125


def test_login_code_gives_the_demo_persons_openid(http: httpx2.Client, sandbox: Sandbox) -> None:
    person = person_by_sub("wang-jianguo")
    assert person is not None

    session = jscode2session(http, sandbox, login_code(http, sandbox, person="wang-jianguo"))

    assert session["openid"] == person.wechat_openid
    assert session["unionid"] == unionid_for(person.wechat_openid)
    assert len(session["session_key"]) == 24


def test_login_code_for_any_openid(http: httpx2.Client, sandbox: Sandbox) -> None:
    code = login_code(http, sandbox, openid="o6_bmNewWeChatUser0000000000")

    assert jscode2session(http, sandbox, code)["openid"] == "o6_bmNewWeChatUser0000000000"


def test_login_needs_someone(http: httpx2.Client, sandbox: Sandbox) -> None:
    assert http.get(f"{sandbox.wechat}/sandbox/login").status_code == 400
    assert http.post(f"{sandbox.wechat}/sandbox/login?person=nobody").status_code == 404


def test_reused_code_is_40163(http: httpx2.Client, sandbox: Sandbox) -> None:
    code = login_code(http, sandbox, person="zhang-wei")
    jscode2session(http, sandbox, code)

    assert jscode2session(http, sandbox, code) == {"errcode": 40163, "errmsg": "code been used"}


def test_unknown_and_expired_codes_are_40029(
    http: httpx2.Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert jscode2session(http, sandbox, "0a3XyzUnknownCode")["errcode"] == 40029

    code = login_code(http, sandbox, person="li-na")
    later = time.time() + CODE_LIFETIME + 1
    monkeypatch.setattr(sandbox.wechat_store, "clock", lambda: later)
    assert jscode2session(http, sandbox, code)["errcode"] == 40029


def test_jscode2session_checks_the_mini_program(http: httpx2.Client, sandbox: Sandbox) -> None:
    code = login_code(http, sandbox, person="li-na")

    assert jscode2session(http, sandbox, code, appid="wx0000000000000000")["errcode"] == 40013
    assert jscode2session(http, sandbox, code, secret="wrong")["errcode"] == 40125
    assert "openid" in jscode2session(http, sandbox, code)  # the refusals did not spend it


def send(http: httpx2.Client, sandbox: Sandbox, token: str, body: object) -> dict[str, Any]:
    response = http.post(
        f"{sandbox.wechat}/cgi-bin/message/subscribe/send",
        params={"access_token": token},
        content=json.dumps(body, ensure_ascii=False).encode(),
    )
    result: dict[str, Any] = response.json()
    return result


def test_subscribe_message_is_recorded(http: httpx2.Client, sandbox: Sandbox) -> None:
    openid = "o6_bmRecipientOfOneMessage01"
    message = {
        "touser": openid,
        "template_id": "tmpl-progress",
        "page": "pages/index/index",
        "data": {"thing1": {"value": "出生一件事"}, "phrase2": {"value": "已办结"}},
    }

    result = send(http, sandbox, access_token(http, sandbox), message)

    assert result["errcode"] == 0 and result["errmsg"] == "ok"
    (recorded,) = http.get(f"{sandbox.wechat}/sandbox/messages", params={"touser": openid}).json()
    assert {key: recorded[key] for key in message} == message
    assert recorded["sent_at"]


def test_subscribe_message_checks_token_and_body(http: httpx2.Client, sandbox: Sandbox) -> None:
    token = access_token(http, sandbox)
    touser = "o6_bmRecipientOfNoMessage001"
    good: dict[str, Any] = {"touser": touser, "template_id": "t", "data": {}}

    assert send(http, sandbox, "not-a-token", good)["errcode"] == 40001
    assert send(http, sandbox, token, {**good, "touser": ""})["errcode"] == 40003
    assert send(http, sandbox, token, {**good, "template_id": ""})["errcode"] == 40037
    assert send(http, sandbox, token, good)["errcode"] == 47003
    assert send(http, sandbox, token, {**good, "data": {"thing1": "x"}})["errcode"] == 47003
    messages = http.get(f"{sandbox.wechat}/sandbox/messages", params={"touser": touser})
    assert messages.json() == []
