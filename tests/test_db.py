"""The engine without ``pool_pre_ping``: a pooled connection the server closed (a restart, a
fail-over; here ``pg_terminate_backend``) is replaced at checkout, not handed out to fail."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import exc, func, select, text
from sqlalchemy.engine import make_url

from portal.db import make_engine
from portal.db_errors import database_unavailable
from portal.db_reads import reading


def test_a_connection_the_server_closed_is_replaced_at_checkout(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server to restart")

    async def scenario() -> tuple[int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                before = await connection.scalar(text("SELECT pg_backend_pid()"))
            # The pooled connection is now idle; the server ends it, as a restart would.
            await _terminate_backend(database_url, int(before or 0))
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


class GoodbyeHeld:
    """A TCP relay to PostgreSQL that passes every byte on at once but, when the server closes
    a connection, keeps the client's side open a while. A pooled connection whose backend
    ends (a restart, ``pg_terminate_backend``, ``idle_session_timeout``) receives the server's
    FATAL error first and the end of the stream an instant later; held here, that instant is
    long enough to check the connection out, as a request can under load."""

    def __init__(self, database_url: str, hold: float) -> None:
        self.upstream = make_url(database_url)
        self.hold = hold
        self.server: asyncio.Server | None = None
        self.goodbyes = 0  # connections the server has closed

    async def __aenter__(self) -> str:
        """The database URL through this relay."""
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = int(self.server.sockets[0].getsockname()[1])
        return self.upstream.set(host="127.0.0.1", port=port).render_as_string(False)

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection(
            self.upstream.host or "127.0.0.1", self.upstream.port or 5432
        )

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()

        upstream = asyncio.ensure_future(pump(client_in, server_out))
        await pump(server_in, client_out)
        self.goodbyes += 1
        await asyncio.sleep(self.hold)
        upstream.cancel()
        client_out.close()
        server_out.close()


async def _terminate_backend(database_url: str, pid: int) -> None:
    """The server ends backend ``pid``, as a restart or an administrator would."""
    killer = make_engine(database_url, pool_size=0)
    async with killer.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()


async def _goodbye_received(database_url: str, relay: GoodbyeHeld, pid: int) -> None:
    """Ends backend ``pid`` and waits until its connection has read the FATAL error, the
    end of the stream still held back by ``relay``."""
    await _terminate_backend(database_url, pid)
    for _ in range(200):
        if relay.goodbyes:
            break
        await asyncio.sleep(0.01)
    assert relay.goodbyes == 1
    await asyncio.sleep(0.1)  # the client reads the error the relay passed on


BACKEND_PID = select(func.pg_backend_pid())


@pytest.mark.parametrize("way", ["session", "driver reads"])
def test_a_pooled_connection_that_received_the_servers_goodbye_fails_once(
    database_url: str, way: str
) -> None:
    """An idle pooled connection that receives the server's FATAL error is left by asyncpg
    waiting for a "ready" that never comes: until the end of the stream is read, it looks
    open, and its next statement fails with "another operation (2) is in progress"
    (``InternalClientError``; MagicStack/asyncpg#1069, sqlalchemy/sqlalchemy#13241). That one
    statement fails as "database unavailable" (the page is the 503), and the connection is
    dropped: the next checkout opens a new one, instead of failing until the stream ends."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: the error is the server's")

    async def use(engine: Any) -> int:
        if way == "session":
            async with engine.connect() as connection:
                return int(await connection.scalar(BACKEND_PID))
        async with reading(engine) as reader:
            row = await reader.first(BACKEND_PID, {})
            assert row is not None
            return int(row[0])

    async def scenario() -> tuple[BaseException, int, int]:
        relay = GoodbyeHeld(database_url, hold=3.0)
        async with relay as relayed_url:
            engine = make_engine(relayed_url, pool_size=1)
            try:
                before = await use(engine)
                await _goodbye_received(database_url, relay, before)
                with pytest.raises(Exception) as first:
                    await use(engine)
                after = await use(engine)  # the goodbye is still held: a new connection
                return first.value, before, after
            finally:
                await engine.dispose()

    error, before, after = asyncio.run(scenario())
    assert "another operation" in str(error), error
    assert database_unavailable(error)
    assert before != after
