"""SQLite made to keep two promises PostgreSQL keeps: a time with its zone, and a locking read.

SQLite keeps no time zone: make timezone-aware columns mean the same instant there as on
PostgreSQL.

SQLite stores a datetime as its clock time and drops the offset, so a ``+08:00`` deadline from
the platform came back as naive 17:00 and was then read as UTC: eight hours late. This type,
put in place of the dialect's DATETIME for one engine, stores every aware value in UTC and
hands it back aware, so no model or query has to remember it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import DateTime


class UtcDATETIME(DATETIME):
    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        store = super().bind_processor(dialect)

        def process(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return store(value) if store else value

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        read = super().result_processor(dialect, coltype)
        if not self.timezone:
            return read

        def process(value: Any) -> Any:
            moment = read(value) if read else value
            if isinstance(moment, datetime) and moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment

        return process


def use_utc_datetimes(dialect: Dialect) -> None:
    """Adapt DateTime columns of this dialect instance (not the class) to ``UtcDATETIME``."""
    dialect.colspecs = {**dialect.colspecs, DateTime: UtcDATETIME}


def honour_locking_reads(engine: Engine) -> None:
    """SQLite drops ``FOR UPDATE``, and its driver opens a transaction only at the first write:
    two writers that read a row, decide and write (the sequence rule for the platform's
    snapshots) both read the old row, and the one that commits last wins, older or not. The
    faults' intake outage caught an item going back to an older state this way. Here a locking
    read first takes the database's write lock (``BEGIN IMMEDIATE``), so such writers take
    turns, as PostgreSQL's row locks make them."""

    @event.listens_for(engine, "before_execute")
    def _lock(connection: Connection, statement: Any, *_args: Any) -> None:
        if getattr(statement, "_for_update_arg", None) is None:
            return
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except Exception as exc:
            if "within a transaction" not in str(exc):
                raise  # (already in one: a write came first and holds the lock)
        finally:
            cursor.close()
