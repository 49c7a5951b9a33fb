"""Hear, in every process, what changed in the database that the process may have kept
(``KeptRows``: session rows, application pages), and forget it.

PostgreSQL's triggers (migrations 0010, 0011) notify ``CHANNEL`` when a change commits:
``s:<token hash>`` for a session updated or deleted, ``p:<person id>`` for a person whose name
or roles changed or who was deleted, ``a:<application id>`` for an application or anything its
page shows (items, timeline, reminders, outbox rows, ratings) written, ``*`` for any of those
tables emptied. One connection per process listens, outside the pool (``PORTAL_CHANGES_URL``:
LISTEN needs a server session of its own, which PgBouncer's transaction pooling does not
give).

The caches keep values only while the listener hears the channel: it is trusted once a
message it sends itself comes back, and checked so every few seconds. When it is lost (a
restart, a fail-over, a check that does not come back) the caches are emptied and stay empty
until the listener is back, since changes made meanwhile were not heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

CHANNEL = "portal_changes"
APPLICATION_NAME = "portal-changes"  # how pg_stat_activity names the listeners
PING = "ping:"  # a listener's check that it hears the channel; not a change
# A connection cut without a word (a network partition) is found by a check that does not
# come back: changes could go unheard for at most about this long, so the cache's own
# expiry (PORTAL_*_CACHE_SECONDS) need not be short.
CHECK_EVERY_SECONDS = 5.0
CHECK_TIMEOUT_SECONDS = 3.0
RETRY_AFTER_SECONDS = (0.2, 1.0, 2.0, 5.0)


class Hearing(Protocol):
    """A cache the listener keeps true (``KeptRows`` and its kinds)."""

    def heard(self, kind: str, key: str) -> bool: ...  # False: not a change of its kind

    def clear(self) -> None: ...

    def listening(self) -> None: ...

    def deaf(self) -> None: ...


def apply(caches: Sequence[Hearing], payload: str) -> None:
    kind, _, key = payload.partition(":")
    if not any(cache.heard(kind, key) for cache in caches):
        # "*", or a message this version does not know: forget everything
        for cache in caches:
            cache.clear()


async def _connect(engine: AsyncEngine, url: URL) -> Any:
    """A connection of its own (not the pool's), with the engine's options."""
    args, options = engine.dialect.create_connect_args(url)
    for pool_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        options.pop(pool_only, None)
    options["server_settings"] = {
        **options.get("server_settings", {}),
        "application_name": APPLICATION_NAME,
    }
    return await asyncpg.connect(*args, **options)


class ChangeListener:
    def __init__(
        self,
        engine: AsyncEngine,
        caches: Sequence[Hearing],
        told: Callable[[bool], None] = lambda _listening: None,
        url: str = "",
    ) -> None:
        self.engine = engine
        self.url = make_url(url) if url else engine.url
        self.caches = caches
        self.told = told  # whether it listens, each time that changes (a metric)

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop``, connecting again after every loss; waiting longer after
        each attempt that was never heard."""
        failures = 0
        while not stop.is_set():
            heard = False
            try:
                connection = await _connect(self.engine, self.url)
            except Exception as exc:  # down, refused, misconfigured: try again
                log.warning("db changes: cannot listen (%s)", type(exc).__name__)
            else:
                try:
                    heard = await self._listen(connection, stop)
                except Exception as exc:  # whatever broke it, listen again
                    log.warning("db changes: listener lost (%s)", type(exc).__name__)
                finally:
                    connection.terminate()
            if heard:
                failures = 0
                continue
            delay = RETRY_AFTER_SECONDS[min(failures, len(RETRY_AFTER_SECONDS) - 1)]
            failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def _listen(self, connection: Any, stop: asyncio.Event) -> bool:
        """Listen on ``connection`` until it is lost or ``stop``; False if it never heard
        itself."""
        lost = asyncio.Event()
        pings: dict[str, asyncio.Future[None]] = {}
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(CHANNEL, functools.partial(self._heard, pings))
        # Trusted only once a message went round: LISTEN through PgBouncer's transaction
        # pooling, or on a standby, succeeds or fails without ever hearing anything.
        if not await _went_round(connection, pings):
            return False
        for cache in self.caches:
            cache.listening()
        self.told(True)
        try:
            while await _quiet_for_a_while(stop, lost) and await _went_round(connection, pings):
                pass
        finally:
            for cache in self.caches:
                cache.deaf()
            self.told(False)
        return True

    def _heard(
        self,
        pings: dict[str, asyncio.Future[None]],
        _connection: Any,
        _pid: int,
        _channel: str,
        payload: str,
    ) -> None:
        if payload.startswith(PING):  # this listener's own, or another process's
            waiter = pings.get(payload)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        else:
            apply(self.caches, payload)


async def _quiet_for_a_while(stop: asyncio.Event, lost: asyncio.Event) -> bool:
    """Wait ``CHECK_EVERY_SECONDS``; False if told to stop or the connection was lost."""
    waiters = [asyncio.ensure_future(event.wait()) for event in (stop, lost)]
    done, pending = await asyncio.wait(
        waiters, timeout=CHECK_EVERY_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    for waiter in pending:
        waiter.cancel()
    return not done


async def _went_round(connection: Any, pings: dict[str, asyncio.Future[None]]) -> bool:
    """Notify the channel and hear it back within ``CHECK_TIMEOUT_SECONDS``: the connection
    answers, and it hears what is sent."""
    nonce = PING + secrets.token_hex(8)
    heard = asyncio.get_running_loop().create_future()
    pings[nonce] = heard

    async def ping() -> None:
        await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, nonce)
        await heard

    try:
        await asyncio.wait_for(ping(), CHECK_TIMEOUT_SECONDS)
        return True
    except TimeoutError:
        log.warning("db changes: the listening connection did not hear itself")
        return False
    finally:
        pings.pop(nonce, None)


@contextlib.asynccontextmanager
async def listening(
    engine: AsyncEngine,
    caches: Sequence[Hearing],
    told: Callable[[bool], None] = lambda _: None,
    url: str = "",
) -> AsyncIterator[None]:
    """Run a listener for this event loop's lifetime (the app's lifespan)."""
    listener = ChangeListener(engine, caches, told, url)
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
