"""Hear, in every process, that a session or its person changed, and forget it from the
process's ``SessionCache``.

PostgreSQL's triggers (migration 0010) notify ``CHANNEL`` when a change commits:
``s:<token hash>`` for a session updated or deleted, ``p:<person id>`` for a person whose name
or roles changed or who was deleted, ``*`` for either table emptied. One connection per
process listens, outside the pool. The cache holds rows only while it is connected: when it
is lost (a restart, a fail-over, a check that goes unanswered) the cache is emptied and stays
empty until the listener is back, since changes made meanwhile were not heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.web.session_cache import SessionCache

log = logging.getLogger(__name__)

CHANNEL = "portal_session_changes"
APPLICATION_NAME = "portal-session-changes"  # how pg_stat_activity names the listeners
# A connection cut without a word (a network partition) is found by a check that goes
# unanswered: changes could go unheard for at most about this long, so the cache's own
# expiry (PORTAL_SESSION_CACHE_SECONDS) need not be short.
CHECK_EVERY_SECONDS = 5.0
CHECK_TIMEOUT_SECONDS = 3.0
RETRY_AFTER_SECONDS = (0.2, 1.0, 2.0, 5.0)


def apply(cache: SessionCache, payload: str) -> None:
    kind, _, key = payload.partition(":")
    if kind == "s" and key:
        cache.forget(key)
    elif kind == "p" and key.isdigit():
        cache.forget_person(int(key))
    else:  # "*", or a message this version does not know: forget everything
        cache.clear()


async def _connect(engine: AsyncEngine) -> Any:
    """A connection of its own (not the pool's), with the engine's URL and options."""
    args, options = engine.dialect.create_connect_args(engine.url)
    for pool_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        options.pop(pool_only, None)
    options["server_settings"] = {
        **options.get("server_settings", {}),
        "application_name": APPLICATION_NAME,
    }
    return await asyncpg.connect(*args, **options)


class SessionChangeListener:
    def __init__(
        self,
        engine: AsyncEngine,
        cache: SessionCache,
        told: Callable[[bool], None] = lambda _listening: None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.told = told  # whether it listens, each time that changes (a metric)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop``, reconnecting after every loss."""
        failures = 0
        while not stop.is_set():
            try:
                connection = await _connect(self.engine)
            except Exception as exc:  # down, refused, misconfigured: try again
                delay = RETRY_AFTER_SECONDS[min(failures, len(RETRY_AFTER_SECONDS) - 1)]
                failures += 1
                log.warning(
                    "session changes: cannot listen (%s), again in %ss", type(exc).__name__, delay
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            failures = 0
            try:
                await self._listen(connection, stop)
            except Exception as exc:  # whatever broke it, listen again
                log.warning("session changes: listener lost (%s)", type(exc).__name__)
            finally:
                self.cache.deaf()
                self.told(False)
                connection.terminate()

    async def _listen(self, connection: Any, stop: asyncio.Event) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(
            CHANNEL, lambda _connection, _pid, _channel, payload: apply(self.cache, payload)
        )
        self.cache.listening()
        self.told(True)
        while not stop.is_set() and not lost.is_set():
            done, _pending = await asyncio.wait(
                [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())],
                timeout=CHECK_EVERY_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in _pending:
                waiter.cancel()
            if done:
                return
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), CHECK_TIMEOUT_SECONDS)
            except TimeoutError:
                log.warning("session changes: the listening connection stopped answering")
                return


@contextlib.asynccontextmanager
async def listening(
    engine: AsyncEngine, cache: SessionCache, told: Callable[[bool], None] = lambda _: None
) -> AsyncIterator[None]:
    """Run a listener for this event loop's lifetime (the app's lifespan)."""
    listener = SessionChangeListener(engine, cache, told)
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
