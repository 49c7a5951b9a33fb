"""Server-side sessions against the real migrated database."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.db import make_engine, make_sessionmaker
from portal.web.session_cache import SessionCache
from portal.web.sessions import SessionMiddleware, WebSession


async def _read(request: Request) -> JSONResponse:
    return JSONResponse(dict(request.session))


async def _write(request: Request) -> JSONResponse:
    request.session["who"] = request.query_params["who"]
    if "rotate" in request.query_params:
        request.session.rotate()  # type: ignore[attr-defined]
    return JSONResponse({})


async def _logout(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({})


def _session_app(database_url: str, cache: SessionCache | None = None) -> Starlette:
    engine = make_engine(database_url, pool_size=0)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/read", _read, methods=["GET", "POST"]),
            Route("/write", _write),
            Route("/logout", _logout),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(
        SessionMiddleware,
        sessionmaker=make_sessionmaker(engine),
        https=False,
        idle=timedelta(minutes=30),
        lifetime=timedelta(hours=12),
        cache=cache,
    )
    app.state.sessionmaker = make_sessionmaker(engine)
    return app


@pytest.fixture
def session_app(database_url: str) -> Starlette:
    return _session_app(database_url)


@pytest.fixture
def cached_app(database_url: str) -> Starlette:
    """Sessions kept in memory, as if a listener heard every change: none is told of a
    change made behind the middleware's back, which shows where a kept row is used."""
    cache = SessionCache(seconds=30, entries=100)
    cache.listening()
    return _session_app(database_url, cache)


def _change_behind_its_back(app: Starlette, client: TestClient, who: str) -> None:
    async def change() -> None:
        async with app.state.sessionmaker() as db:
            await db.execute(update(WebSession).values(data=f'{{"who": "{who}"}}'))
            await db.commit()

    client.portal.call(change)  # type: ignore[union-attr]


async def _rows(app: Starlette) -> list[WebSession]:
    async with app.state.sessionmaker() as db:
        return list((await db.execute(select(WebSession))).scalars())


def test_no_cookie_and_no_row_until_something_is_stored(session_app: Starlette) -> None:
    with TestClient(session_app) as client:
        response = client.get("/read")
        assert response.json() == {} and "set-cookie" not in response.headers


def test_data_survives_between_requests_and_logout_ends_it(session_app: Starlette) -> None:
    with TestClient(session_app) as client:
        client.get("/write?who=alice")
        cookie = client.cookies.get("session")
        assert cookie and "alice" not in cookie  # only a random token travels
        assert client.get("/read").json() == {"who": "alice"}
        client.get("/logout")
        assert client.get("/read").json() == {}
        # The old token is dead even if someone kept it.
        client.cookies.clear()
        client.cookies.set("session", cookie)
        assert client.get("/read").json() == {}


def test_rotation_changes_the_token_and_keeps_data(session_app: Starlette) -> None:
    with TestClient(session_app) as client:
        client.get("/write?who=bob")
        before = client.cookies.get("session")
        client.get("/write?who=bob&rotate=1")
        after = client.cookies.get("session")
        assert before != after
        assert client.get("/read").json() == {"who": "bob"}
        client.cookies.clear()
        client.cookies.set("session", before)
        assert client.get("/read").json() == {}


def test_idle_session_expires(session_app: Starlette) -> None:
    with TestClient(session_app) as client:
        client.get("/write?who=carol")

        async def age() -> None:
            async with session_app.state.sessionmaker() as db:
                old = datetime.now(UTC) - timedelta(minutes=31)
                await db.execute(update(WebSession).values(last_seen_at=old))
                await db.commit()

        client.portal.call(age)  # type: ignore[union-attr]
        assert client.get("/read").json() == {}


def test_session_ends_after_its_lifetime_even_if_used(session_app: Starlette) -> None:
    with TestClient(session_app) as client:
        client.get("/write?who=dan")

        async def age() -> None:
            async with session_app.state.sessionmaker() as db:
                born = datetime.now(UTC) - timedelta(hours=12, minutes=1)
                await db.execute(update(WebSession).values(created_at=born))
                await db.commit()

        client.portal.call(age)  # type: ignore[union-attr]
        assert client.get("/read").json() == {}


def test_a_page_uses_the_kept_row_a_change_of_state_reads_the_database(
    cached_app: Starlette,
) -> None:
    with TestClient(cached_app) as client:
        client.get("/write?who=alice")
        assert client.get("/read").json() == {"who": "alice"}  # read, and kept
        _change_behind_its_back(cached_app, client, "mallory")
        assert client.get("/read").json() == {"who": "alice"}
        assert client.head("/read").status_code == 200
        assert client.post("/read").json() == {"who": "mallory"}


def test_its_own_writes_are_seen_at_once(cached_app: Starlette) -> None:
    with TestClient(cached_app) as client:
        client.get("/write?who=erin")
        assert client.get("/read").json() == {"who": "erin"}
        client.get("/write?who=frank")
        assert client.get("/read").json() == {"who": "frank"}
        old = client.cookies.get("session")
        client.get("/write?who=frank&rotate=1")
        assert client.get("/read").json() == {"who": "frank"}
        client.get("/logout")
        assert client.get("/read").json() == {}
        client.cookies.clear()
        client.cookies.set("session", old)
        assert client.get("/read").json() == {}


def test_a_change_seen_by_the_browser_is_seen_by_every_process_at_once(
    database_url: str,
) -> None:
    """Post, redirect, get, with the get served by another process that has not heard of
    the change yet (its cache hears nothing here): the cookie's version sends it to the
    database."""
    caches = [SessionCache(seconds=30, entries=100) for _ in range(2)]
    for cache in caches:
        cache.listening()
    one, other = (_session_app(database_url, cache) for cache in caches)
    with TestClient(one) as a, TestClient(other) as b:
        a.get("/write?who=gina")
        b.cookies.set("session", a.cookies.get("session") or "")
        assert b.get("/read").json() == {"who": "gina"}  # kept by the other process
        a.get("/write?who=hugo")  # the data changes: a new version in the cookie
        b.cookies.set("session", a.cookies.get("session") or "")
        assert b.get("/read").json() == {"who": "hugo"}
        assert b.get("/read").json() == {"who": "hugo"}
        assert len(caches[1]) == 1
