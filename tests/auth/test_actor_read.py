"""The signed-in actor is read with the session row: one statement before the handler."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.web.sessions import WebSession
from tests.auth.helpers import sign_in
from tests.statements import recorded

ACCOUNT_LINK = 'class="account account--name"'


@pytest.fixture
def statements(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every SQL statement about sessions or people while the test runs."""
    with recorded(
        app.state.engine, monkeypatch, lambda s: "web_sessions" in s or "people" in s
    ) as seen:
        yield seen


def test_a_signed_in_page_costs_one_read(client: TestClient, statements: list[str]) -> None:
    sign_in(client, "zhang-wei", "L3")
    statements.clear()
    page = client.get("/")
    assert page.status_code == 200 and ACCOUNT_LINK in page.text
    assert len(statements) == 1, statements  # no write either: nothing changed
    assert "JOIN people" in statements[0]


async def _forget_person(app: Starlette) -> None:
    async with app.state.sessionmaker() as db:
        await db.execute(update(WebSession).values(person_id=None))
        await db.commit()


def test_a_row_written_before_sessions_named_their_person_still_signs_in(
    app: Starlette, client: TestClient, statements: list[str]
) -> None:
    sign_in(client, "zhang-wei", "L3")
    client.portal.call(_forget_person, app)  # type: ignore[union-attr]
    statements.clear()
    page = client.get("/")
    assert page.status_code == 200 and ACCOUNT_LINK in page.text
    assert len(statements) == 2, statements  # the session row, then the person alone
    assert "JOIN" not in statements[1] and "people" in statements[1]
