"""Record the SQL statements an app sends: through SQLAlchemy, and (PostgreSQL's page reads)
through portal.db_reads, which goes to the driver without SQLAlchemy's events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from portal import db_reads


@contextmanager
def recorded(
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    keep: Callable[[str], bool] = lambda _statement: True,
) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if keep(statement):
            seen.append(statement)

    sent = db_reads._DriverReader.all

    async def read(reader: Any, statement: Any, params: Any) -> Any:
        record(None, None, str(statement.compile(dialect=reader.dialect)))
        return await sent(reader, statement, params)

    monkeypatch.setattr(db_reads._DriverReader, "all", read)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
