"""Live events of the assisted service (queue changes, chat, proposals, call signalling):
publish to a channel, every subscriber of that channel gets it, in whichever process.

``LocalHub`` fans out within one process (the embedded default). ``RedisHub`` goes through
Redis pub/sub, so a citizen on one portal process and an assistant on another see each
other's events. Nothing is kept here: the database holds the state, the hub only says "look".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

QUEUE_CHANNEL = "assist:queue"


def session_channel(public_id: str) -> str:
    return f"assist:session:{public_id}"


class Hub(Protocol):
    async def publish(self, channel: str, event: dict[str, Any]) -> None: ...

    def subscribe(
        self, *channels: str
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def close(self) -> None: ...


Subscriber = tuple[asyncio.AbstractEventLoop, "asyncio.Queue[dict[str, Any]]"]


class LocalHub:
    """Subscribers may live on different event loops (a server thread per loop, test
    clients): each queue is fed on its own loop."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = defaultdict(set)

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        for loop, queue in list(self._subscribers.get(channel, ())):
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        subscriber: Subscriber = (asyncio.get_running_loop(), asyncio.Queue())
        for channel in channels:
            self._subscribers[channel].add(subscriber)
        try:
            yield _drain(subscriber[1])
        finally:
            for channel in channels:
                self._subscribers[channel].discard(subscriber)
                if not self._subscribers[channel]:
                    del self._subscribers[channel]

    async def close(self) -> None:
        """Nothing to release: subscribers leave when their sockets close."""


async def _drain(queue: asyncio.Queue[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    while True:
        yield await queue.get()


class RedisHub:
    """Redis pub/sub with one subscribing connection per process, whatever the number of
    sockets: a reader task takes every message of the channels someone here listens to and
    fans it out locally. (A connection per socket ran out of the pool at a few hundred
    sockets: bench/assist_signalling.py.)"""

    def __init__(self, url: str) -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._local = LocalHub()
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: dict[str, int] = defaultdict(int)
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._redis.publish(channel, json.dumps(event, ensure_ascii=False))

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async with self._local.subscribe(*channels) as events:
            await self._join(channels)
            try:
                yield events
            finally:
                await self._leave(channels)

    async def _join(self, channels: tuple[str, ...]) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._redis.pubsub()
            new = [c for c in channels if self._listeners[c] == 0]
            for channel in channels:
                self._listeners[channel] += 1
            for channel in new:
                self._confirmed[channel] = asyncio.Event()
            if new:
                await self._pubsub.subscribe(*new)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())
        # An event published right after this returns must not be missed: wait for Redis.
        async with asyncio.timeout(5.0):
            for channel in channels:
                await self._confirmed[channel].wait()

    async def _leave(self, channels: tuple[str, ...]) -> None:
        async with self._lock:
            gone = []
            for channel in channels:
                self._listeners[channel] -= 1
                if self._listeners[channel] <= 0:
                    del self._listeners[channel]
                    self._confirmed.pop(channel, None)
                    gone.append(channel)
            if gone and self._pubsub is not None:
                await self._pubsub.unsubscribe(*gone)

    async def _read(self) -> None:
        while self._listeners:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "subscribe" and channel in self._confirmed:
                self._confirmed[channel].set()
            elif message["type"] == "message":
                await self._local.publish(channel, json.loads(message["data"]))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self._redis.aclose()


def make_hub(redis_url: str) -> Hub:
    return RedisHub(redis_url) if redis_url else LocalHub()
