"""Limits on tries per client, shared by every portal process.

A limit counts tries in fixed windows (``window`` seconds) under a key made of the limit's
name and a keyed hash of the client (its address is personal data: never stored in clear).
The counter lives where every process sees it: in Redis when ``PORTAL_REDIS_URL`` is set, or
else in the database (one upserted row per key and window). A counter in process memory would
let a guesser multiply the limit by the number of processes behind the load balancer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import DateTime, Integer, String, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.db import Base

log = logging.getLogger(__name__)

# About one call in this many also deletes the counters of windows that are over.
PURGE_ONE_IN = 200


class RateLimitHit(Base):
    """Tries counted under one key in one window."""

    __tablename__ = "rate_limit_hits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` tries per client in ``window`` seconds."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> Rule:
        """``"10/600"``: 10 tries per 600 seconds."""
        limit, _, window = text.partition("/")
        try:
            rule = cls(int(limit), int(window))
        except ValueError:
            rule = cls(0, 0)
        if rule.limit < 1 or rule.window < 1:
            raise ValueError(f"a rate limit is TRIES/SECONDS, like 10/600, not {text!r}")
        return rule


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int:
        """Count one try under ``key`` (new every ``window`` seconds); returns the count."""


class DatabaseCounter:
    def __init__(self, sessionmaker: async_sessionmaker[Any]) -> None:
        self.sessionmaker = sessionmaker

    async def hit(self, key: str, window: int) -> int:
        expires = clock.now() + timedelta(seconds=window)
        async with self.sessionmaker() as db:
            dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
            insert = dialect.insert(RateLimitHit).values(key=key, count=1, expires_at=expires)
            statement = insert.on_conflict_do_update(
                index_elements=[RateLimitHit.key],
                set_={"count": RateLimitHit.count + 1},
            ).returning(RateLimitHit.count)
            count = int((await db.execute(statement)).scalar_one())
            if secrets.randbelow(PURGE_ONE_IN) == 0:
                await db.execute(delete(RateLimitHit).where(RateLimitHit.expires_at < clock.now()))
            await db.commit()
        return count


class RedisCounter:
    def __init__(self, redis: Any) -> None:
        self.redis = redis  # redis.asyncio.Redis (untyped here: the dependency is optional)

    async def hit(self, key: str, window: int) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window + 1, nx=True)
            count, _ = await pipe.execute()
        return int(count)


class RateLimiter:
    """Decides whether a client may try once more under a named rule."""

    def __init__(self, counter: Counter, secret: str, rules: Mapping[str, Rule]) -> None:
        self.counter = counter
        self.secret = secret.encode()
        self.rules = dict(rules)

    async def allow(self, name: str, client: str) -> bool:
        rule = self.rules[name]
        now = int(clock.now().timestamp())
        digest = hmac.new(self.secret, client.encode(), hashlib.sha256).hexdigest()[:32]
        key = f"portal:rl:{name}:{digest}:{now // rule.window}"
        try:
            count = await self.counter.hit(key, rule.window)
        except Exception:
            # The limit is a second line of defence: with its store down, people can still
            # sign in and look up progress (and the failure is logged and visible).
            log.exception("rate limit store unreachable: %s allowed", name)
            return True
        if count == rule.limit + 1:  # log once per client and window, never the address
            log.warning("rate limit reached: %s", name)
        return count <= rule.limit

    async def aclose(self) -> None:
        redis = getattr(self.counter, "redis", None)
        if redis is not None:
            await redis.aclose()


def counter_for(sessionmaker: async_sessionmaker[Any], redis_url: str) -> Counter:
    if not redis_url:
        return DatabaseCounter(sessionmaker)
    from redis.asyncio import Redis

    return RedisCounter(Redis.from_url(redis_url))
