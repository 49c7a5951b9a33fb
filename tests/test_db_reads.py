"""db_reads: on PostgreSQL a read goes straight to the driver and must give the rows
SQLAlchemy gives; a read that fails never returns its connection to the pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.db import make_engine
from portal.db_reads import driver_reads, reading

# Every kind of column the hot reads have, with the types' own bind and result processing
# (JSON is serialised by SQLAlchemy on the way in and decoded on the way out; a division is
# numeric, whose processor depends on the type the server reports).
TYPED = select(
    bindparam("number", type_=Integer()).label("number"),
    cast(bindparam("text", type_=String()), String()).label("text"),
    bindparam("data", type_=JSON()).label("data"),
    literal(True, Boolean()).label("flag"),
    cast(None, String()).label("empty"),
    (literal(1) / bindparam("number", type_=Integer())).label("ratio"),
)
# SQLite has no time type for a bare value: a time column is checked on PostgreSQL.
TIMED = TYPED.add_columns(
    cast(bindparam("at", type_=DateTime(timezone=True)), DateTime(timezone=True)).label("at")
)
PARAMS: dict[str, Any] = {
    "number": 7,
    "text": "李娜",
    "data": {"roles": ["assistant"], "n": 1},
    "at": datetime(2026, 12, 7, 8, 30, tzinfo=UTC),
}


def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: other databases read through SQLAlchemy")


async def _both(engine: AsyncEngine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    statement = TIMED if driver_reads(engine) else TYPED
    async with reading(engine) as db:
        fast = [tuple(r) for r in await db.all(statement, PARAMS)]
        fast += [tuple(r) for r in await db.all(statement, PARAMS)]  # processors now known
        named = await db.first(statement, PARAMS)
        assert named is not None and named.text == "李娜" and named.data["n"] == 1
    async with engine.connect() as db:
        plain = [tuple(r) for r in (await db.execute(statement, PARAMS)).all()] * 2
    return fast, plain


def test_a_read_gives_the_rows_sqlalchemy_gives(database_url: str) -> None:
    async def scenario() -> tuple[bool, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        engine = make_engine(database_url, pool_size=2)
        try:
            return (driver_reads(engine), *await _both(engine))
        finally:
            await engine.dispose()

    direct, fast, plain = asyncio.run(scenario())
    assert direct == database_url.startswith("postgresql")
    assert fast == plain
    assert fast[0][:5] == (7, "李娜", PARAMS["data"], True, None)


async def _backend(engine: AsyncEngine) -> int:
    """The server process of the pool's one connection."""
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_read_cancelled_half_way_does_not_give_its_connection_back(database_url: str) -> None:
    _postgres_only(database_url)
    failing = select((literal(1) / bindparam("zero", type_=Integer())).label("x"))
    slow = select(func.pg_sleep(bindparam("seconds", type_=Integer())).label("slept"))

    async def cancelled(engine: AsyncEngine) -> None:
        async with reading(engine) as db:
            await db.all(slow, {"seconds": 5})

    async def scenario() -> tuple[int, int, int, int]:
        engine = make_engine(database_url, pool_size=1)
        try:
            first = await _backend(engine)
            with pytest.raises(Exception, match="division by zero"):
                async with reading(engine) as db:
                    await db.all(failing, {"zero": 0})
            after_error = await _backend(engine)  # a refused statement leaves it usable
            task = asyncio.create_task(cancelled(engine))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with reading(engine) as db:  # would find the sleep still running
                assert (await db.all(TIMED, PARAMS))[0][0] == 7
            return first, after_error, await _backend(engine), len(PARAMS)
        finally:
            await engine.dispose()

    first, after_error, after_cancel, _ = asyncio.run(scenario())
    assert after_error == first
    assert after_cancel != first


def test_expanding_parameters_are_refused_on_the_driver(database_url: str) -> None:
    _postgres_only(database_url)
    listed = select(literal(1).label("one")).where(literal(1).in_(bindparam("ids", expanding=True)))

    async def scenario() -> None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with reading(engine) as db:
                with pytest.raises(ValueError, match="expanding"):
                    await db.all(listed, {"ids": [1, 2]})
        finally:
            await engine.dispose()

    asyncio.run(scenario())
