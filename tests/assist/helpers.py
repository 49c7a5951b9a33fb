"""Two people in one session: a citizen with a newborn draft, and an assistant (帮办员)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.applications.test_apply_flow import start_newborn
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from

ORIGIN = {"origin": "http://testserver"}


@contextmanager
def person(app: Starlette, who: str | None = None) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        if who:
            sign_in(client, who, "L3")
        yield client


def post(client: TestClient, page: str, action: str, data: dict[str, Any] | None = None) -> Any:
    """Posts a form of ``page`` as a browser would (with the page's CSRF token)."""
    token = csrf_token_from(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def newborn_draft(client: TestClient) -> str:
    """The citizen (li-na) signs in and starts a newborn draft; returns its public id."""
    base = start_newborn(client)
    return base.rsplit("/", 1)[-1]


def draft_of(client: TestClient, who: str) -> str:
    """Another person's newborn draft (signed in as ``who``); its public id."""
    sign_in(client, who, "L3", next_path="/things/newborn/apply")
    response = post(client, "/things/newborn/apply", "/things/newborn/apply")
    location: str = response.headers["location"]
    return location.split("/drafts/")[1].split("/")[0]


def ask(client: TestClient, thing: str = "newborn", draft: str = "") -> str:
    response = post(client, "/assist", "/assist/ask", {"thing": thing, "draft": draft})
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location.rsplit("/", 1)[-1]


def take(assistant: TestClient, session: str | None = None) -> Any:
    return post(assistant, "/assist/console", "/assist/console/take", {"session": session or ""})
