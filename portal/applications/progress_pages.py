"""The application page's rows, kept by each process on PostgreSQL (docs/performance.md,
"Eleventh round"): a citizen's open page polls its live part every few seconds, and the rows
change far less often than that. Every write to the application or to what its page shows
reaches every process at once (migration 0011, ``portal.web.db_changes``), so a kept page is
never older than the last change the process was told of.

The page after a person's own change (a submission, a withdrawal, a supplement, a rating:
each redirects with ``?submitted=`` or ``?done=``) reads the database, so it shows the change
even in a process the notice has not reached yet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.actor import Actor
from portal.applications import progress_read
from portal.applications.progress_read import ApplicationRow, Children
from portal.db_reads import reading
from portal.web.kept_rows import KeptRows


class ProgressCache(KeptRows[Sequence[Any]]):
    """``progress_read.rows`` by application, actor and part; forgotten by application."""

    def heard(self, kind: str, key: str) -> bool:
        if kind == "a" and key.isdigit():
            self.forget(("application", int(key)))
            return True
        return False


@dataclass
class ProgressPages:
    engine: AsyncEngine
    cache: ProgressCache | None  # None: read every time (SQLite, or turned off)
    reads: Callable[[str], None] = lambda _source: None  # "cache" or "database" (metrics)

    async def page(
        self, public_id: str, actor: Actor, *, whole: bool, fresh: bool
    ) -> tuple[ApplicationRow, Children] | None:
        """``progress_read.page``, from this process's memory unless ``fresh`` is asked."""
        cache = self.cache
        key = (public_id, actor.subject.kind, actor.subject.id, actor.person_id, whole)
        rows = None if cache is None or fresh else cache.get(key)
        if rows is not None:
            self.reads("cache")
            return progress_read.parsed(rows, actor)
        generation = cache.generation if cache is not None else 0
        async with reading(self.engine) as db:
            rows = await progress_read.rows(db, public_id, actor, whole=whole)
        self.reads("database")
        application_id = progress_read.application_id(rows)
        if cache is not None and application_id is not None:
            cache.put(key, rows, (("application", application_id),), generation)
        return progress_read.parsed(rows, actor)
