"""The portal's WeChat client (wechatpy underneath) against the sandbox, over real HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import fields

import httpx2
import pytest

from integrations.sandbox.people import person_by_sub
from integrations.wechat import WeChatCodeError, WeChatError, WeChatGateway, WeChatSession
from integrations.wechat.client import PortalWeChatClient
from tests.integrations.helpers import WECHAT_APPID, WECHAT_SECRET, Sandbox, free_port


@pytest.fixture
def gateway(sandbox: Sandbox) -> WeChatGateway:
    return WeChatGateway(sandbox.wechat, WECHAT_APPID, WECHAT_SECRET)


def login_code(http: httpx2.Client, sandbox: Sandbox, person: str) -> str:
    code: str = http.post(f"{sandbox.wechat}/sandbox/login", params={"person": person}).json()[
        "code"
    ]
    return code


def test_every_wechatpy_url_points_at_the_api_base() -> None:
    client = PortalWeChatClient("http://127.0.0.1:9/sandbox/wechat/", "wx1", "s", timeout=1)

    assert client.API_BASE_URL == "http://127.0.0.1:9/sandbox/wechat/cgi-bin/"
    assert client.wxa.API_BASE_URL == "http://127.0.0.1:9/sandbox/wechat/"
    assert client.datacube.API_BASE_URL == "http://127.0.0.1:9/sandbox/wechat/datacube/"
    assert client.merchant.order.API_BASE_URL == "http://127.0.0.1:9/sandbox/wechat/"
    # Class attributes stay as wechatpy shipped them: other clients are not redirected.
    assert type(client.wxa).API_BASE_URL == "https://api.weixin.qq.com/"


def test_code_to_session(http: httpx2.Client, sandbox: Sandbox, gateway: WeChatGateway) -> None:
    person = person_by_sub("zhao-min")
    assert person is not None

    session = asyncio.run(gateway.code_to_session(login_code(http, sandbox, "zhao-min")))

    assert session.openid == person.wechat_openid
    assert session.unionid
    assert [f.name for f in fields(WeChatSession)] == ["openid", "unionid"]  # no session_key
    # jscode2session takes appid and secret: no access token was fetched for it.
    assert gateway.client.session.get(gateway.client.access_token_key) is None


def test_code_errors(http: httpx2.Client, sandbox: Sandbox, gateway: WeChatGateway) -> None:
    code = login_code(http, sandbox, "liu-qiang")
    asyncio.run(gateway.code_to_session(code))

    with pytest.raises(WeChatCodeError) as reused:
        asyncio.run(gateway.code_to_session(code))
    with pytest.raises(WeChatCodeError) as unknown:
        asyncio.run(gateway.code_to_session("0a3XyzUnknownCode"))
    with pytest.raises(WeChatCodeError) as missing:
        asyncio.run(gateway.code_to_session(""))

    assert (reused.value.errcode, unknown.value.errcode, missing.value.errcode) == (
        40163,
        40029,
        41008,
    )


def test_wrong_secret_is_not_a_code_error(http: httpx2.Client, sandbox: Sandbox) -> None:
    gateway = WeChatGateway(sandbox.wechat, WECHAT_APPID, "wrong-secret")

    with pytest.raises(WeChatError) as raised:
        asyncio.run(gateway.code_to_session(login_code(http, sandbox, "zhou-jie")))

    assert not isinstance(raised.value, WeChatCodeError)
    assert raised.value.errcode == 40125


def test_unreachable_wechat() -> None:
    gateway = WeChatGateway(f"http://127.0.0.1:{free_port()}", WECHAT_APPID, WECHAT_SECRET)

    with pytest.raises(WeChatError) as raised:
        asyncio.run(gateway.code_to_session("0a3XyzAnyCode"))

    assert raised.value.errcode is None


def test_send_subscribe_message(
    http: httpx2.Client, sandbox: Sandbox, gateway: WeChatGateway
) -> None:
    person = person_by_sub("zhang-wei")
    assert person is not None

    asyncio.run(
        gateway.send_subscribe_message(
            person.wechat_openid,
            "tmpl-newborn-done",
            {"thing1": "出生一件事", "phrase2": "已办结"},
            page="pages/webview/index?path=/things/newborn",
        )
    )

    messages = http.get(
        f"{sandbox.wechat}/sandbox/messages", params={"touser": person.wechat_openid}
    ).json()
    assert messages[-1]["template_id"] == "tmpl-newborn-done"
    assert messages[-1]["data"] == {
        "thing1": {"value": "出生一件事"},
        "phrase2": {"value": "已办结"},
    }
    assert messages[-1]["page"] == "pages/webview/index?path=/things/newborn"


def test_an_expired_access_token_is_fetched_again(
    http: httpx2.Client, sandbox: Sandbox, gateway: WeChatGateway
) -> None:
    send = gateway.send_subscribe_message("o6_bmRetriedAfterTokenLoss01", "t", {"thing1": "x"})
    asyncio.run(send)
    sandbox.wechat_store.access_tokens.clear()  # as if WeChat had rotated it

    asyncio.run(gateway.send_subscribe_message("o6_bmRetriedAfterTokenLoss01", "t", {"a": "y"}))

    messages = http.get(
        f"{sandbox.wechat}/sandbox/messages", params={"touser": "o6_bmRetriedAfterTokenLoss01"}
    )
    assert len(messages.json()) == 2


def test_processes_sharing_redis_share_one_access_token(sandbox: Sandbox) -> None:
    from tests.web.test_ratelimit import REDIS_URL, _redis_reachable

    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(f"portal:wechat:{WECHAT_APPID}_access_token")
    first, second = (
        WeChatGateway(sandbox.wechat, WECHAT_APPID, WECHAT_SECRET, redis_url=REDIS_URL)
        for _ in range(2)
    )
    asyncio.run(first.send_subscribe_message("o6_bmSharedToken0000000001", "t", {"a": "1"}))
    issued = set(sandbox.wechat_store.access_tokens)

    asyncio.run(second.send_subscribe_message("o6_bmSharedToken0000000001", "t", {"a": "2"}))

    assert set(sandbox.wechat_store.access_tokens) == issued  # no second token fetched
    assert second.client.access_token == first.client.access_token
    for gateway in (first, second):
        gateway.client.session.redis.close()
