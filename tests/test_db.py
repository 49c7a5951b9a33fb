"""The engine without ``pool_pre_ping``: a pooled connection the server closed (a restart, a
fail-over; here ``pg_terminate_backend``) is replaced at checkout, not handed out to fail."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc, text

from portal.db import make_engine


def test_a_connection_the_server_closed_is_replaced_at_checkout(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server to restart")

    async def scenario() -> tuple[int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                before = await connection.scalar(text("SELECT pg_backend_pid()"))
            # The pooled connection is now idle; the server ends it, as a restart would.
            killer = make_engine(database_url, pool_size=0)
            async with killer.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
            await killer.dispose()
            for _ in range(50):  # let the event loop read the server's goodbye
                await asyncio.sleep(0.01)
            async with engine.connect() as connection:
                after = await connection.scalar(text("SELECT pg_backend_pid()"))
            return int(before or 0), int(after or 0)
        finally:
            await engine.dispose()

    before, after = asyncio.run(scenario())
    assert before and after and after != before


def test_connections_opened_under_a_burst_are_kept(database_url: str) -> None:
    """SQLAlchemy's overflow would close them on return: under a steady load past the pool's
    size, a new connection every few requests."""

    async def scenario() -> tuple[int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as a, engine.connect() as b, engine.connect() as c:
                for connection in (a, b, c):
                    await connection.execute(text("SELECT 1"))
            return engine.sync_engine.pool.checkedin(), engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == (3, 0)


def test_a_connection_that_reported_the_server_going_away_is_not_reused(
    database_url: str,
) -> None:
    """A server shutting down sends "terminating connection due to administrator command"
    (SQLSTATE 57P01) before it closes the socket. Raised here with the connection left open,
    so only the error itself can tell the pool not to hand the connection out again."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the error is the server's")

    async def scenario() -> tuple[bool, int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                before = await connection.scalar(text("SELECT pg_backend_pid()"))
                with pytest.raises(exc.DBAPIError) as raised:
                    await connection.execute(
                        text("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '57P01'; END $$")
                    )
            async with engine.connect() as connection:
                after = await connection.scalar(text("SELECT pg_backend_pid()"))
            return raised.value.connection_invalidated, int(before or 0), int(after or 0)
        finally:
            await engine.dispose()

    invalidated, before, after = asyncio.run(scenario())
    assert invalidated and before != after
