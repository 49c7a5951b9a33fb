"""The whole OIDC flow against the sandbox provider served by uvicorn (real HTTP)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import Person
from tests.auth.helpers import callback_path, choose_at_provider, sign_in, start


def test_sign_in_returns_to_the_page_and_shows_the_masked_id(client: TestClient) -> None:
    assert sign_in(client, "zhang-wei", "L3", next_path="/profile") == "/profile"
    page = client.get("/profile").text
    assert "张伟" in page
    assert "***********" in page  # the ID number, masked
    assert "L3" in page


def test_the_request_uses_pkce_state_and_nonce(client: TestClient) -> None:
    query = parse_qs(urlsplit(start(client)).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["state"] and query["nonce"]
    assert query["redirect_uri"] == ["http://testserver/auth/callback"]


def test_session_id_is_rotated_at_sign_in(client: TestClient) -> None:
    client.get("/auth/login?next=/", follow_redirects=False)  # creates a pre-login session
    before = client.cookies.get("session")
    sign_in(client)
    assert client.cookies.get("session") not in (None, before)


def test_replayed_callback_is_refused(client: TestClient) -> None:
    back = callback_path(choose_at_provider(start(client), "li-na", "L3"))
    assert client.get(back, follow_redirects=False).status_code == 303
    replay = client.get(back, follow_redirects=False)
    assert replay.status_code == 400
    assert "已经用过或已过期" in replay.text


def test_callback_from_another_browser_is_refused(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as victim,
        TestClient(app, base_url="http://testserver") as attacker,
    ):
        back = callback_path(choose_at_provider(start(attacker), "li-na", "L3"))
        assert victim.get(back, follow_redirects=False).status_code == 400
        assert victim.get("/profile", follow_redirects=False).status_code == 303


def test_tampered_state_is_refused(client: TestClient) -> None:
    back = callback_path(choose_at_provider(start(client), "li-na", "L3"))
    tampered = back.replace("state=", "state=x")
    assert client.get(tampered, follow_redirects=False).status_code == 400


def test_cancel_at_the_provider(client: TestClient) -> None:
    response = choose_at_provider(start(client), "li-na", "L3", decision="deny")
    page = client.get(callback_path(response))
    assert "取消了登录" in page.text


def test_step_up_asks_for_the_level_and_comes_back(client: TestClient, app: Starlette) -> None:
    sign_in(client, "zhou-jie", "L3", next_path="/")
    # A one-thing that needs L4: the portal sends the person back to the provider.
    code = next(t.code for t in app.state.catalog.things() if t.min_assurance == "L4")
    response = client.get(f"/things/{code}/apply", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/auth/login?next=%2Fthings%2F{code}%2Fapply&acr=L4"
    authorize = start(client, f"/things/{code}/apply", acr="L4")
    query = parse_qs(urlsplit(authorize).query)
    assert query["acr_values"] == ["L4"] and query["prompt"] == ["login"]
    back = callback_path(choose_at_provider(authorize, "zhou-jie", "L4"))
    assert client.get(back, follow_redirects=False).headers["location"] == f"/things/{code}/apply"


def test_signed_out_user_is_sent_back_after_sign_in(client: TestClient) -> None:
    response = client.get("/profile", follow_redirects=False)
    assert response.headers["location"] == "/auth/login?next=%2Fprofile"
    assert sign_in(client, next_path="/profile") == "/profile"


def test_logout_ends_the_session_here_and_at_the_provider(client: TestClient) -> None:
    sign_in(client)
    old_cookie = client.cookies.get("session")
    page = client.get("/profile").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    end_session = response.headers["location"]
    assert "/end-session?" in end_session and "id_token_hint=" in end_session
    query = parse_qs(urlsplit(end_session).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/auth/logged-out"]
    # The old session cookie is dead even if someone kept it.
    client.cookies.clear()
    client.cookies.set("session", old_cookie)
    assert client.get("/profile", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("person", ["sun-li"])
def test_legal_person_sign_in_records_the_enterprise(
    client: TestClient, app: Starlette, person: str
) -> None:
    sign_in(client, person, "L4")
    page = client.get("/profile").text
    assert "新乡市牧野区好味道餐饮有限公司" in page and "法定代表人" in page


def test_id_numbers_are_encrypted_at_rest(client: TestClient, app: Starlette) -> None:
    from integrations.sandbox.people import person_by_sub

    sign_in(client, "wang-jianguo", "L3")
    id_number = person_by_sub("wang-jianguo").id_number  # type: ignore[union-attr]

    async def stored() -> Person:
        async with app.state.sessionmaker() as db:
            person = await db.scalar(select(Person).where(Person.subject == "wang-jianguo"))
            assert person is not None
            return person

    person = client.portal.call(stored)  # type: ignore[union-attr]
    assert id_number.encode() not in (person.id_number_encrypted or b"")
    assert person.id_number_hash and id_number not in person.id_number_hash
