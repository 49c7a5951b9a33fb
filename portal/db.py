"""The database: one async engine per app, SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, NullPool, event, exc, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from portal.db_errors import database_unavailable
from portal.db_pool import FirstComeFirstServedPool
from portal.db_sqlite import honour_locking_reads, use_utc_datetimes

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# An overloaded process sheds a request after this long without a free connection (503, "try
# again later": portal/web/unavailable.py) rather than holding the person for SQLAlchemy's
# default 30 s and then failing anyway (found by the load run, docs/load.md).
POOL_TIMEOUT_SECONDS = 10


# Connections a pool opens beyond its size under a burst, and then keeps. SQLAlchemy's own
# overflow closes them again on return: under a steady load past the pool's size that meant a
# new PostgreSQL connection (a server process, the driver's type set-up) for every few
# requests, 83-90 per 1,000 signed-in pages at 64 in flight (docs/performance.md).
MAX_OVERFLOW = 10


def make_engine(url: str, pool_size: int = 5) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if pool_size == 0:
        kwargs["poolclass"] = NullPool
    elif ":memory:" not in url:  # (SQLite in memory: one static connection)
        # The same 15 at most, all kept once opened. (On SQLite an aiosqlite connection is a
        # thread of this process, and opening one per request beyond the fifth was 8% of a
        # loaded worker's samples on the progress page.)
        kwargs["poolclass"] = FirstComeFirstServedPool
        kwargs["pool_size"] = pool_size + MAX_OVERFLOW
        kwargs["max_overflow"] = 0
        kwargs["pool_timeout"] = POOL_TIMEOUT_SECONDS
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        use_utc_datetimes(engine.dialect)
        honour_locking_reads(engine.sync_engine)
    else:
        event.listen(engine.sync_engine.pool, "checkout", _closed_is_stale)
        event.listen(engine.sync_engine, "handle_error", _unavailable_is_a_disconnect)
    return engine


def _unavailable_is_a_disconnect(context: ExceptionContext) -> None:
    """SQLAlchemy's asyncpg dialect calls an error a disconnect only once the driver has seen
    the socket close. A server shutting down sends its error first ("terminating connection
    due to administrator command"), and a connection that receives it while idle in the pool
    is left by asyncpg waiting for a "ready" that never comes: until the end of the stream is
    read it looks open, and its next statement fails with "another operation (2) is in
    progress" (MagicStack/asyncpg#1069). Every error that means the server is out of reach
    invalidates the connection it came on, so that statement is the only one to fail
    (tests/test_db.py, with the end of the stream held back by a relay)."""
    if database_unavailable(context.original_exception):
        context.is_disconnect = True


def _closed_is_stale(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Instead of ``pool_pre_ping`` (BEGIN, ``;``, ROLLBACK: three round trips on every
    checkout, 3-10% of a web process under load): a restarted or failed-over server closes its
    connections, the driver notices on its own, and the pool then replaces a closed one
    before handing it out. A connection that dies while in use fails that one statement;
    the driver reports a disconnect and the pool drops every connection older than it."""
    driver = getattr(dbapi_connection, "_connection", None)
    is_closed = getattr(driver, "is_closed", None)
    if is_closed is not None and is_closed():
        raise exc.DisconnectionError("connection closed by the server")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the relay and the web process read while one writes. Writers take turns: under
    # a burst of submissions a person should wait a few seconds rather than get an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
