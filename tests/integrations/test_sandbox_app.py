"""The sandbox as ``portal sandbox --port N`` serves it: alone, at the root of its origin."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from starlette.testclient import TestClient

from integrations.sandbox import PEOPLE, create_sandbox_app
from tests.integrations.helpers import (
    WECHAT_APPID,
    WECHAT_SECRET,
    Attempt,
    free_port,
    portal_client,
    serve,
)


@pytest.fixture(scope="module")
def standalone() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(create_sandbox_app(url, [portal_client()], WECHAT_APPID, WECHAT_SECRET), port):
        yield url


def test_index_lists_what_is_there(http: httpx2.Client, standalone: str) -> None:
    page = http.get(f"{standalone}/")

    assert page.status_code == 200
    assert f"{standalone}/idp/.well-known/openid-configuration" in page.text
    assert f"{standalone}/wechat/sandbox/messages" in page.text
    assert all(person.name in page.text and person.wechat_openid in page.text for person in PEOPLE)
    assert '<link rel="stylesheet" href="/idp/sandbox.css">' in page.text
    assert http.get(f"{standalone}/idp/sandbox.css").status_code == 200


def test_issuer_is_at_the_root(http: httpx2.Client, standalone: str) -> None:
    document = http.get(f"{standalone}/idp/.well-known/openid-configuration").json()

    assert document["issuer"] == f"{standalone}/idp"
    assert document["token_endpoint"] == f"{standalone}/idp/token"
    page = http.get(document["authorization_endpoint"], params=Attempt().params())
    assert 'action="/idp/authorize"' in page.text


def test_wechat_is_at_the_root(http: httpx2.Client, standalone: str) -> None:
    code = http.get(f"{standalone}/wechat/sandbox/login", params={"person": "sun-li"}).json()
    assert code["expires_in"] == 300


def test_plain_http_is_refused_off_loopback() -> None:
    """OAuth 2 requires TLS; Authlib allows plain HTTP on loopback only, and so does the
    sandbox. TestClient's host is ``testserver``, which is neither."""
    app = create_sandbox_app("http://testserver", [portal_client()], WECHAT_APPID, WECHAT_SECRET)

    with TestClient(app) as client:
        page = client.get("/idp/authorize", params=Attempt().params())

    assert page.status_code == 400
    assert "insecure_transport" in page.text
    assert "location" not in page.headers
