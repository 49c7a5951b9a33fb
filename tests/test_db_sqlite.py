"""On SQLite a timezone-aware column gives back the instant that was stored, whatever its
offset (SQLite itself keeps only the clock time)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select

from portal.db import make_engine

CHINA = timezone(timedelta(hours=8))
TABLE = Table(
    "moments",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("aware", DateTime(timezone=True)),
    Column("naive", DateTime()),
)


def test_an_offset_time_is_the_same_instant_when_read_back(tmp_path: Path) -> None:
    due = datetime(2026, 10, 12, 17, 0, tzinfo=CHINA)  # the platform writes +08:00

    async def run() -> tuple[object, ...]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
        async with engine.begin() as connection:
            await connection.run_sync(TABLE.metadata.create_all)
            await connection.execute(
                TABLE.insert().values(id=1, aware=due, naive=datetime(2026, 1, 1, 9))
            )
            row = (await connection.execute(select(TABLE.c.aware, TABLE.c.naive))).one()
            before = select(TABLE.c.id).where(
                TABLE.c.aware < datetime(2026, 10, 12, 9, 1, tzinfo=UTC)
            )
            after = select(TABLE.c.id).where(
                TABLE.c.aware < datetime(2026, 10, 12, 8, 59, tzinfo=UTC)
            )
            found = (
                (await connection.execute(before)).all(),
                (await connection.execute(after)).all(),
            )
        await engine.dispose()
        return (*row, *found)

    aware, naive, due_before, due_after = asyncio.run(run())
    assert aware == due and aware.tzinfo is not None  # type: ignore[union-attr]
    assert naive == datetime(2026, 1, 1, 9)  # a naive column stays naive
    assert due_before == [(1,)] and due_after == []  # compared as instants in queries too


COUNTER = Table(
    "counters",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sequence", Integer),
)


def test_a_locking_read_waits_for_the_writer_before_it(tmp_path: Path) -> None:
    """Two read-decide-write transactions (the sequence rule) take turns: the second reads
    what the first wrote, not the row as it was."""

    async def run() -> tuple[bool, int]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'lock.sqlite3'}")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(COUNTER.metadata.create_all)
                await connection.execute(COUNTER.insert().values(id=1, sequence=2))
            locking = select(COUNTER.c.sequence).where(COUNTER.c.id == 1).with_for_update()
            async with engine.connect() as first, engine.connect() as second:
                assert await first.scalar(locking) == 2

                async def then() -> int:
                    seen = int(await second.scalar(locking) or 0)
                    await second.rollback()
                    return seen

                waiting = asyncio.create_task(then())
                await asyncio.sleep(0.5)
                waited = not waiting.done()
                await first.execute(COUNTER.update().values(sequence=3))
                await first.commit()
                return waited, await waiting
        finally:
            await engine.dispose()

    assert asyncio.run(run()) == (True, 3)
