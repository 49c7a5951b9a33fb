"""The signed-in actor is read with the session row: one statement before the handler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.web.sessions import WebSession
from tests.auth.helpers import sign_in

ACCOUNT_LINK = 'class="account account--name"'


@pytest.fixture
def statements(app: Starlette) -> Iterator[list[str]]:
    """Every SQL statement about sessions or people while the test runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "web_sessions" in statement or "people" in statement:
            seen.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


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
