"""Two portal processes on one PostgreSQL database (two apps, each with its listener): a
page may use a session row or an application page's rows its process read lately, and what
changes anywhere is forgotten everywhere at once (LISTEN/NOTIFY, migrations 0010 and 0011)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.app import create_app
from portal.applications.progress_pages import ProgressCache
from portal.db import make_engine
from portal.settings import Settings
from portal.web import db_changes
from portal.web.db_changes import APPLICATION_NAME
from portal.web.session_cache import SessionCache
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from
from tests.ratings.helpers import application, person_id

HEARD_WITHIN_SECONDS = 2.0


@pytest.fixture(scope="module")
def two_apps(settings: Settings) -> tuple[Starlette, Starlette]:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: no other database tells the processes")
    return create_app(settings), create_app(settings)


@pytest.fixture
def processes(two_apps: tuple[Starlette, Starlette]) -> Iterator[tuple[TestClient, TestClient]]:
    one, other = two_apps
    with TestClient(one) as a, TestClient(other) as b:
        for client in (a, b):
            _wait_until(lambda c=client: _cache(c).live, "a listener connects")
        yield a, b


def _cache(client: TestClient) -> SessionCache:
    cache: SessionCache = client.app.state.session_cache  # type: ignore[attr-defined]
    return cache


def _reads(client: TestClient, source: str) -> float:
    metrics = client.app.state.metrics  # type: ignore[attr-defined]
    value: float = metrics.session_reads.labels(source)._value.get()
    return value


def _wait_until(condition: Callable[[], bool], what: str) -> float:
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > HEARD_WITHIN_SECONDS:
            raise AssertionError(f"not within {HEARD_WITHIN_SECONDS} s: {what}")
        time.sleep(0.005)
    return time.monotonic() - began


def _token_hash(client: TestClient) -> str:
    cookie = client.cookies.get("session")
    assert cookie
    return hashlib.sha256(cookie.partition(".")[0].encode()).hexdigest()


def _version(client: TestClient) -> int:
    return int((client.cookies.get("session") or "").partition(".")[2] or 0)


def _signed_in_both(a: TestClient, b: TestClient) -> str:
    """Signs in on one process; the other then serves the same browser (a load balancer)
    and keeps its session row."""
    sign_in(a)
    b.cookies.set("session", a.cookies.get("session") or "")
    from_database, from_cache = _reads(b, "database"), _reads(b, "cache")
    assert b.get("/profile").status_code == 200
    assert b.get("/profile").status_code == 200
    assert (_reads(b, "database"), _reads(b, "cache")) == (from_database + 1, from_cache + 1)
    token_hash = _token_hash(b)
    assert _cache(b).row(token_hash, _version(b)) is not None
    return token_hash


def _execute(settings: Settings, statement: str) -> Any:
    """Runs ``statement`` in a transaction of its own; its first value, if it returns rows."""

    async def run() -> Any:
        engine = make_engine(settings.database_url, pool_size=0)
        async with engine.begin() as db:
            result = await db.execute(text(statement))
            found = result.scalar() if result.returns_rows else None
        await engine.dispose()
        return found

    return asyncio.run(run())


def test_signing_out_in_one_process_ends_the_session_in_the_other(
    processes: tuple[TestClient, TestClient],
) -> None:
    a, b = processes
    token_hash = _signed_in_both(a, b)
    kept_cookie = a.cookies.get("session") or ""
    token = csrf_token_from(a.get("/profile").text)
    a.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    _wait_until(lambda: _cache(b).row(token_hash, _version(b)) is None, "the other process forgets")
    b.cookies.set("session", kept_cookie)
    assert b.get("/profile", follow_redirects=False).status_code == 303


def test_a_person_renamed_is_seen_by_every_process(
    processes: tuple[TestClient, TestClient], settings: Settings
) -> None:
    a, b = processes
    token_hash = _signed_in_both(a, b)
    _execute(settings, "UPDATE people SET name = '张新名' WHERE subject = 'zhang-wei'")
    try:
        for client in (a, b):
            _wait_until(
                lambda c=client: _cache(c).row(token_hash, _version(c)) is None, "forgotten"
            )
        assert "张新名" in b.get("/profile").text
    finally:
        _execute(settings, "UPDATE people SET name = '张伟' WHERE subject = 'zhang-wei'")


def test_a_session_changed_behind_the_portal_s_back_is_forgotten(
    processes: tuple[TestClient, TestClient], settings: Settings
) -> None:
    a, b = processes
    token_hash = _signed_in_both(a, b)
    _execute(settings, f"DELETE FROM web_sessions WHERE token_hash = '{token_hash}'")
    _wait_until(lambda: _cache(b).row(token_hash, _version(b)) is None, "the other process forgets")
    assert b.get("/profile", follow_redirects=False).status_code == 303


def test_a_listener_cut_off_empties_the_cache_until_it_is_back(
    processes: tuple[TestClient, TestClient], settings: Settings
) -> None:
    a, b = processes
    _signed_in_both(a, b)
    began = _cache(b).generation
    _execute(
        settings,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE application_name = '{APPLICATION_NAME}'",
    )
    # Emptied when the loss is seen, and again when listening anew.
    _wait_until(lambda: _cache(b).generation >= began + 2, "the loss is seen, then mended")
    _wait_until(lambda: _cache(b).live, "the listener is back")
    from_database = _reads(b, "database")
    assert b.get("/profile").status_code == 200
    assert _reads(b, "database") == from_database + 1
    assert b.get("/profile").status_code == 200
    assert _reads(b, "database") == from_database + 1  # kept again


def test_a_process_that_cannot_listen_reads_every_time(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    nobody_there = "postgresql+asyncpg://postgres@127.0.0.1:1/portal"
    app = create_app(dataclasses.replace(settings, changes_url=nobody_there))
    with TestClient(app) as client:
        _pages_read_the_database_every_time(client)


def test_a_listener_that_does_not_hear_itself_is_not_trusted(
    two_apps: tuple[Starlette, Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As behind PgBouncer's transaction pooling: LISTEN succeeds, nothing is ever heard."""
    monkeypatch.setattr(db_changes, "CHECK_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(db_changes.ChangeListener, "_heard", lambda *_: None)
    with TestClient(two_apps[0]) as client:
        _pages_read_the_database_every_time(client)


def _pages_read_the_database_every_time(client: TestClient) -> None:
    sign_in(client)
    from_database = _reads(client, "database")
    for _ in range(3):
        assert client.get("/profile").status_code == 200
    assert _reads(client, "database") == from_database + 3
    assert not _cache(client).live and len(_cache(client)) == 0


# The application page's rows (portal.applications.progress_pages).


def _pages(client: TestClient) -> ProgressCache:
    cache = client.app.state.progress_pages.cache  # type: ignore[attr-defined]
    assert isinstance(cache, ProgressCache)
    return cache


def _page_reads(client: TestClient, source: str) -> float:
    metrics = client.app.state.metrics  # type: ignore[attr-defined]
    value: float = metrics.progress_reads.labels(source)._value.get()
    return value


def _kept_page_in_both(a: TestClient, b: TestClient) -> tuple[str, int]:
    """An application of the person signed in on both; each process keeps its page."""
    _signed_in_both(a, b)
    owner = person_id(a, a.app, "zhang-wei")  # type: ignore[arg-type]
    public_id = application(a, a.app, owner)  # type: ignore[arg-type]
    for client in (a, b):
        from_database, from_cache = _page_reads(client, "database"), _page_reads(client, "cache")
        for _ in range(2):
            assert client.get(f"/applications/{public_id}").status_code == 200
        assert (_page_reads(client, "database"), _page_reads(client, "cache")) == (
            from_database + 1,
            from_cache + 1,
        )
    return public_id, owner


def _application_id(settings: Settings, public_id: str) -> int:
    return int(_execute(settings, f"SELECT id FROM applications WHERE public_id = '{public_id}'"))


def test_an_application_changed_anywhere_shows_on_its_kept_pages_at_once(
    processes: tuple[TestClient, TestClient], settings: Settings
) -> None:
    a, b = processes
    public_id, _owner = _kept_page_in_both(a, b)
    assert "RN-KEPT-1" not in b.get(f"/applications/{public_id}").text
    _execute(
        settings,
        f"UPDATE applications SET receipt_number = 'RN-KEPT-1' WHERE public_id = '{public_id}'",
    )
    for client in (a, b):
        _wait_until(lambda c=client: len(_pages(c)) == 0, "the page is forgotten")
    assert "RN-KEPT-1" in b.get(f"/applications/{public_id}").text


# One write to each table the page shows; {a} is the application's id, {p} its owner's.
WRITES = {
    "an item": "UPDATE application_items SET status = 'refused' WHERE application_id = {a}",
    "a timeline line": "INSERT INTO application_events (application_id, kind, occurred_at,"
    " data) VALUES ({a}, 'relayed', now(), '{{}}')",
    # Sent already, so no relay picks it up.
    "an outbox row": "INSERT INTO outbox (topic, idempotency_key, application_id, body, state,"
    " created_at, available_at, attempts) VALUES ('withdrawal', 'k-{a}', {a}, ''::bytea,"
    " 'sent', now(), now(), 0)",
    "a reminder": "INSERT INTO notifications (application_id, person_id, channel, event,"
    " template, params, state, created_at) VALUES ({a}, {p}, 'sms', 'e', 't', '{{}}', 'sent',"
    " now())",
    "a rating": "INSERT INTO ratings (public_id, application_id, item_key, thing_code,"
    " department, rater_id, level, indicators, reasons, comment, anonymous, created_at,"
    " relay_status, state, sequence, followup, heard_at) VALUES ('r-{a}', {a}, '', 'newborn',"
    " '', {p}, 5, '[]', '[]', '{{}}', false, now(), 'relayed', 'submitted', -1, '{{}}', now())",
    "the application gone": "DELETE FROM applications WHERE id = {a}",
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_each_table_the_page_shows_tells_every_process(
    processes: tuple[TestClient, TestClient], settings: Settings, write: str
) -> None:
    a, b = processes
    public_id, owner = _kept_page_in_both(a, b)
    _execute(settings, write.format(a=_application_id(settings, public_id), p=owner))
    _wait_until(lambda: len(_pages(b)) == 0, "the other process forgets the page")


def test_an_outbox_row_s_lease_alone_tells_nobody(
    processes: tuple[TestClient, TestClient], settings: Settings
) -> None:
    """The relay's leases and attempts change nothing the page shows: pages stay kept."""
    a, b = processes
    public_id, owner = _kept_page_in_both(a, b)
    target = _application_id(settings, public_id)
    _execute(settings, WRITES["an outbox row"].format(a=target, p=owner))
    _wait_until(lambda: len(_pages(b)) == 0, "the new row is heard")
    assert b.get(f"/applications/{public_id}").status_code == 200
    assert len(_pages(b)) == 1
    began = _pages(b).generation
    _execute(settings, f"UPDATE outbox SET attempts = attempts + 1 WHERE application_id = {target}")
    # Notices arrive in the order their transactions commit: once this one is heard, one
    # from the update would have been.
    _execute(settings, "SELECT pg_notify('portal_changes', 'a:0')")
    _wait_until(lambda: _pages(b).generation > began, "the later notice is heard")
    assert _pages(b).generation == began + 1 and len(_pages(b)) == 1


def test_the_page_after_the_person_s_own_change_reads_the_database(
    processes: tuple[TestClient, TestClient],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Even in a process the notice has not reached yet (here: one that never hears it)."""
    a, b = processes
    public_id, _owner = _kept_page_in_both(a, b)
    monkeypatch.setattr(ProgressCache, "heard", lambda _self, kind, _key: kind == "a")
    _execute(
        settings,
        f"UPDATE applications SET receipt_number = 'RN-KEPT-2' WHERE public_id = '{public_id}'",
    )
    time.sleep(0.2)
    assert "RN-KEPT-2" not in b.get(f"/applications/{public_id}").text  # kept, unheard
    assert "RN-KEPT-2" in b.get(f"/applications/{public_id}?done=rating").text
    assert "RN-KEPT-2" in b.get(f"/applications/{public_id}?submitted=1").text
