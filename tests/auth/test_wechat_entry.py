"""The mini-program's web-view entry against the sandbox WeChat API (real HTTP)."""

from __future__ import annotations

import httpx2
from starlette.testclient import TestClient

from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from
from tests.integrations.helpers import Sandbox


def wx_login(sandbox: Sandbox, person: str) -> str:
    """What wx.login() gives the mini-program: a one-time code."""
    response = httpx2.post(f"{sandbox.wechat}/sandbox/login", params={"person": person})
    code: str = response.json()["code"]
    return code


def test_first_entry_binds_after_one_sign_in_then_signs_in_directly(
    client: TestClient, sandbox: Sandbox
) -> None:
    first = client.get(f"/auth/wechat?code={wx_login(sandbox, 'li-na')}&next=/profile")
    assert first.status_code == 200 and "首次使用" in first.text
    assert sign_in(client, "li-na", "L4", next_path="/profile") == "/profile"
    assert "微信小程序，绑定于" in client.get("/profile").text

    with TestClient(client.app, base_url="http://testserver") as phone:
        code = wx_login(sandbox, "li-na")
        entry = phone.get(f"/auth/wechat?code={code}&next=/profile", follow_redirects=False)
        assert entry.status_code == 303 and entry.headers["location"] == "/profile"
        page = phone.get("/profile").text
        assert "李娜" in page
        assert "L3 级认证" in page and "L4 级认证" not in page  # capped at L3
        # The same code again: WeChat says it has been used.
        again = phone.get(f"/auth/wechat?code={code}")
        assert again.status_code == 400 and "凭证已失效" in again.text


def test_unknown_code_is_refused(client: TestClient) -> None:
    response = client.get("/auth/wechat?code=not-a-real-code")
    assert response.status_code == 400


def test_session_key_never_reaches_the_page_or_session(
    client: TestClient, sandbox: Sandbox
) -> None:
    response = client.get(f"/auth/wechat?code={wx_login(sandbox, 'zhao-min')}")
    assert "session_key" not in response.text


def test_unbinding_stops_direct_sign_in(client: TestClient, sandbox: Sandbox) -> None:
    client.get(f"/auth/wechat?code={wx_login(sandbox, 'liu-qiang')}")
    sign_in(client, "liu-qiang", "L3")
    page = client.get("/profile").text
    binding_id = page.split('action="/profile/wechat/')[1].split("/")[0]
    response = client.post(
        f"/profile/wechat/{binding_id}/unbind",
        data={"csrf_token": csrf_token_from(page)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with TestClient(client.app, base_url="http://testserver") as phone:
        again = phone.get(f"/auth/wechat?code={wx_login(sandbox, 'liu-qiang')}")
        assert "首次使用" in again.text
