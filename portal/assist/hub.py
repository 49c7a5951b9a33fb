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
    """One connection pool per process; each subscriber holds its own pub/sub connection."""

    def __init__(self, url: str) -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url)

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self._redis.publish(channel, json.dumps(event, ensure_ascii=False))

    @contextlib.asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(*channels)
        # Wait for Redis to confirm: an event published right after must not be missed.
        confirmed = 0
        while confirmed < len(channels):
            message = await pubsub.get_message(timeout=5.0)
            if message is None:
                raise ConnectionError("Redis did not confirm the subscription")
            confirmed += message.get("type") == "subscribe"
        try:
            yield self._messages(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    @staticmethod
    async def _messages(pubsub: Any) -> AsyncIterator[dict[str, Any]]:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                yield json.loads(message["data"])

    async def close(self) -> None:
        await self._redis.aclose()


def make_hub(redis_url: str) -> Hub:
    return RedisHub(redis_url) if redis_url else LocalHub()
