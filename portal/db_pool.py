"""A connection pool that serves its waiters in the order they came.

SQLAlchemy's asyncio pool keeps its connections in an ``asyncio.Queue`` and takes one with
``get_nowait()`` before it waits. A returned connection wakes the longest waiter, but until
that waiter runs, any request that arrives takes the connection first; the waiter finds the
queue empty and goes to the back of the line. Under a steady load past the pool's size some
requests were passed over again and again: at 64 in flight on 15 connections the mean wait
for a connection was about 100 ms but the longest 2.3-7.8 s (bench/pool_wait.py), and now and
then one reached the pool's 10-s timeout and its person got "try again later" while the
process was serving others (docs/performance.md, seventh round). The same flaw is reported
for asyncpg's own pool (MagicStack/asyncpg#1247) and for Rust's sqlx (launchbadge/sqlx#453).

Here a returned connection is handed straight to the longest waiter; only with no one
waiting does it go back on the shelf. So a connection waits on the shelf only while no
request waits for one, and a request that finds one there jumps no queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon

T = TypeVar("T")


class HandOverQueue(QueueCommon[T], Generic[T]):
    """The queue behind the pool: first come, first served, with a direct hand-over."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._shelf: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._shelf

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._shelf)

    def qsize(self) -> int:
        return len(self._shelf)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        # The pool only ever puts without blocking (a connection coming back).
        self.put_nowait(item)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # (one whose wait ended has left already, or is leaving)
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        if self.use_lifo:
            self._shelf.appendleft(item)
        else:
            self._shelf.append(item)

    def get_nowait(self) -> T:
        if not self._shelf:
            raise Empty()
        return self._shelf.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        # A connection on the shelf means no one is waiting: put_nowait hands over first.
        if self._shelf or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None) -> T:
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # handed over as the time ran out
                return waiter.result()
            raise Empty() from None
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Cancelled after a connection was handed over: pass it on, or it is lost.
                self.put_nowait(waiter.result())
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class FirstComeFirstServedPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool on :class:`HandOverQueue`; otherwise the same."""

    _queue_class = HandOverQueue[ConnectionPoolEntry]
