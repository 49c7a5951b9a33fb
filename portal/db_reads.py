"""The reads every signed-in page makes (the session row, the application page's statement),
sent on PostgreSQL straight to the driver through the engine's own pool.

Through SQLAlchemy a session read cost 1.16 ms of CPU (this process and PostgreSQL) at 64 in
flight, through the driver 0.48 ms (``bench/session_read.py``): the difference is the
``BEGIN`` and ``ROLLBACK`` round trips around a lone ``SELECT`` and the execution machinery
(greenlet hops, result objects). docs/performance.md, "Fourth round".

A statement is compiled once by SQLAlchemy for the engine's dialect; each call binds its
parameters with the types' own bind processors and runs the result through the types' own
result processors (a sealed column is opened as it would be), so the rows are the ones
SQLAlchemy would give: ``tests/test_db_reads.py`` compares both ways. A single statement
needs no transaction: PostgreSQL runs it in its own snapshot. Any other database goes
through SQLAlchemy as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.expression import CompoundSelect, Select
from sqlalchemy.util.concurrency import greenlet_spawn

from portal.db_errors import database_unavailable

Processor = Callable[[Any], Any] | None
Statement = Select[*tuple[Any, ...]] | CompoundSelect[*tuple[Any, ...]]


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order of $1, $2, …
    defaults: Mapping[str, Any]  # values bound in the statement itself (literals)
    binds: Mapping[str, Processor]
    types: tuple[Any, ...]  # each result column's SQLAlchemy type, for this dialect
    row: Any  # a namedtuple class: attribute and index access, as SQLAlchemy's rows
    # Some processors depend on the column's type as the server reports it (numeric): known
    # after the first call.
    results: tuple[Processor, ...] | None = None


# Keyed by the statement itself (by identity), which the entry keeps alive: an id alone could
# be reused by a later statement once the first was collected.
_COMPILED: dict[tuple[Statement, str], _Compiled] = {}


def _compile(statement: Statement, dialect: Dialect) -> _Compiled:
    key = (statement, dialect.name)
    found = _COMPILED.get(key)
    if found is not None:
        return found
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("expanding (IN) and literal-execute parameters are not supported")
    names = tuple(compiled.positiontup or ())
    binds = {
        name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in names
    }
    columns = list(statement.selected_columns)
    made = _Compiled(
        sql=str(compiled),
        names=names,
        defaults={name: compiled.binds[name].value for name in names},
        binds=binds,
        types=tuple(c.type.dialect_impl(dialect) for c in columns),
        row=namedtuple("Row", [c.key for c in columns], rename=True),  # type: ignore[misc]
    )
    if len(_COMPILED) > 256:  # statements are built once per module: this never fills
        _COMPILED.clear()
    _COMPILED[key] = made
    return made


class Reader:
    """One pooled connection for a request's reads: ``all`` and ``first`` of a ``SELECT``."""

    async def all(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        raise NotImplementedError

    async def first(self, statement: Statement, params: Mapping[str, Any]) -> Any | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None


class _DriverReader(Reader):
    def __init__(self, driver: Any, dialect: Dialect) -> None:
        self.driver = driver
        self.dialect = dialect
        self.failed: BaseException | None = None

    async def all(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        compiled = _compile(statement, self.dialect)
        args = []
        for name in compiled.names:
            value = params[name] if name in params else compiled.defaults[name]
            bind = compiled.binds[name]
            args.append(bind(value) if bind is not None else value)
        try:
            records = await self.driver.fetch(compiled.sql, *args)
            if compiled.results is None:
                described = (await self.driver.prepare(compiled.sql)).get_attributes()
                compiled.results = tuple(
                    kind.result_processor(self.dialect, column.type.oid)
                    for kind, column in zip(compiled.types, described, strict=True)
                )
        except BaseException as exc:
            if not isinstance(exc, Exception) or database_unavailable(exc):
                self.failed = exc  # cancelled half-way, or the server went away
            raise
        results, row = compiled.results, compiled.row
        if not any(results):
            return [row._make(record) for record in records]
        return [
            row._make(p(v) if p is not None else v for p, v in zip(results, record, strict=True))
            for record in records
        ]


class _SqlAlchemyReader(Reader):
    def __init__(self, db: AsyncConnection) -> None:
        self.db = db

    async def all(self, statement: Statement, params: Mapping[str, Any]) -> list[Any]:
        return list((await self.db.execute(statement, dict(params))).all())


def driver_reads(engine: AsyncEngine) -> bool:
    return engine.dialect.driver == "asyncpg"


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[Reader]:
    """A reader on one connection of ``engine``'s pool, returned to it on leaving."""
    if not driver_reads(engine):
        async with engine.connect() as db:
            yield _SqlAlchemyReader(db)
        return
    pooled = await engine.raw_connection()
    reader = _DriverReader(pooled.driver_connection, engine.dialect)
    try:
        yield reader
    finally:
        if reader.failed is not None:
            # The driver may still wait for the cancelled read's answer, or the server is
            # gone: the pool must not hand this connection out again.
            failed = reader.failed
            await greenlet_spawn(
                pooled.invalidate, failed if isinstance(failed, Exception) else None
            )
        await greenlet_spawn(pooled.close)
