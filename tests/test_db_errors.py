"""A database out of reach is a 503 with the plain "try again later" page, not a 500."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.testclient import TestClient

from portal.app import create_app
from portal.db_errors import database_unavailable
from portal.settings import Settings


def test_connection_errors_and_their_wrappers_mean_unavailable() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert database_unavailable(refused)
    assert database_unavailable(OperationalError("connect", {}, refused))
    try:
        try:
            raise refused
        except OSError as cause:
            raise RuntimeError("while loading the session") from cause
    except RuntimeError as wrapped:
        assert database_unavailable(wrapped)


def test_bugs_and_constraint_violations_are_not_unavailability() -> None:
    assert not database_unavailable(ValueError("a bug"))
    assert not database_unavailable(IntegrityError("insert", {}, Exception("duplicate key")))


def test_a_driver_stuck_in_an_answer_cut_half_way_means_unavailable() -> None:
    import asyncpg

    stuck = asyncpg.exceptions.InternalClientError(
        "cannot switch to state 12; another operation (2) is in progress"
    )
    try:
        raise RuntimeError("while reading the session") from stuck
    except RuntimeError as wrapped:
        assert database_unavailable(wrapped)


def test_a_page_needing_the_database_answers_503_while_it_is_unreachable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env(
        environ={},
        database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/portal.sqlite3",
        secret_key="test-secret-key-not-for-production",
        data_key=base64.b64encode(b"k" * 32).decode(),
        base_url="http://testserver",
        sandbox=False,
        relay_in_process=False,
        upload_dir=tmp_path / "uploads",
    )
    # Raising server exceptions: the 503 must be handled inside the app, not by the outermost
    # handler (which re-raises to the server: a logged traceback, a closed connection).
    with TestClient(create_app(settings)) as client:
        client.cookies.set("session", "a-session-to-look-up")
        page = client.get("/")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "系统暂时出了问题" in page.text and "现在办事的人多" not in page.text
    assert "Traceback" not in page.text
    assert not [r for r in caplog.records if r.message == "unhandled error"]
