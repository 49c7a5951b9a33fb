"""One relay worker: claim a batch, deliver it concurrently, record every outcome in one
transaction, back off what failed. Run it in the portal process (``make run`` on SQLite) or
as ``portal relay`` processes (PostgreSQL: any number side by side)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.crypto import PersonalDataCipher
from integrations.intake.client import Accepted, Outcome, Permanent, Transient
from portal import clock
from portal.db_errors import database_unavailable
from portal.relay import outbox
from portal.relay.breaker import Breaker
from portal.web.metrics import Metrics

log = logging.getLogger(__name__)


class Handler(Protocol):
    """Delivers one topic's messages to one outside system (``target``)."""

    target: str

    async def deliver(self, message: outbox.Claimed) -> Outcome: ...

    async def record(self, db: AsyncSession, message: outbox.Claimed, outcome: Outcome) -> None:
        """Apply what the answer means (in the transaction that marks the row)."""


@runtime_checkable
class Prefetching(Protocol):
    """A handler that loads (and locks) what a whole batch's ``record`` calls need at once."""

    async def prefetch(self, db: AsyncSession, messages: Sequence[outbox.Claimed]) -> None: ...


@dataclass(frozen=True)
class RelayOptions:
    batch: int = 64
    concurrency: int = 32
    lease: timedelta = timedelta(seconds=60)
    max_backoff: float = 300.0  # seconds; full jitter below it (docs/intake-api.md §9)
    give_up_after: timedelta = timedelta(hours=24)
    idle_wait: float = 0.2


class RelayWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cipher: PersonalDataCipher,
        handlers: Mapping[str, Handler],
        metrics: Metrics | None = None,
        options: RelayOptions | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cipher = cipher
        self.handlers = handlers
        self.metrics = metrics
        self.options = options or RelayOptions()
        self.breakers = {h.target: Breaker() for h in handlers.values()}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A row was just written: look now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                busy = await self.step()
            except Exception as exc:
                if database_unavailable(exc):  # restarting or down: one line, not a traceback
                    log.warning(
                        "relay: database unavailable (%s); trying again", type(exc).__name__
                    )
                else:
                    log.exception("relay step failed; trying again shortly")
                busy = 0
            if busy < self.options.batch:
                await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        await asyncio.wait(waits, timeout=self.options.idle_wait, return_when="FIRST_COMPLETED")
        for task in waits:
            task.cancel()

    async def step(self) -> int:
        """One batch; returns how many rows it handled."""
        topics = [t for t, h in self.handlers.items() if self.breakers[h.target].allows()]
        async with self.sessionmaker() as db:
            claimed = await outbox.claim(
                db, self.cipher, topics, self.options.batch, self.options.lease
            )
        if not claimed:
            return 0
        gate = asyncio.Semaphore(self.options.concurrency)

        async def deliver(message: outbox.Claimed) -> Outcome:
            async with gate:
                try:
                    return await self.handlers[message.topic].deliver(message)
                except Exception as exc:  # a bug in a handler must not lose the row
                    log.exception("relay handler failed", extra={"topic": message.topic})
                    return Transient(f"handler error: {type(exc).__name__}")

        outcomes = await asyncio.gather(*(deliver(m) for m in claimed))
        await self._record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def _record(self, results: list[tuple[outbox.Claimed, Outcome]]) -> None:
        recovered: set[str] = set()
        sent: list[outbox.Claimed] = []
        async with self.sessionmaker() as db:
            await self._prefetch(db, [m for m, o in results if not isinstance(o, Transient)])
            for message, outcome in results:
                handler = self.handlers[message.topic]
                breaker = self.breakers[handler.target]
                if isinstance(outcome, Transient):
                    if not outcome.in_flight:  # a 409 proves the target alive: no failure
                        breaker.failure()
                    await self._retry(db, message, outcome)
                    continue
                if breaker.success():
                    recovered.add(handler.target)
                await handler.record(db, message, outcome)
                if isinstance(outcome, Accepted):
                    sent.append(message)
                else:
                    await outbox.mark_failed(db, message.id, outcome.reason)
                    self._count(message, "failed")
                    log.error(  # the JSON log keeps the message, not the extras
                        "relay: permanent failure of %s: %s",
                        message.topic,
                        outcome.reason,
                        extra={"topic": message.topic, "reason": outcome.reason},
                    )
            await outbox.mark_sent(db, [message.id for message in sent])
            await db.commit()
            self._sent(sent)
            for target in recovered:
                topics = [t for t, h in self.handlers.items() if h.target == target]
                hurried = await outbox.hurry(db, topics)
                log.info("relay: %s is back; %d waiting rows due now", target, hurried)

    async def _prefetch(self, db: AsyncSession, messages: list[outbox.Claimed]) -> None:
        by_handler: dict[int, tuple[Prefetching, list[outbox.Claimed]]] = {}
        for message in messages:
            handler = self.handlers[message.topic]
            if isinstance(handler, Prefetching):
                by_handler.setdefault(id(handler), (handler, []))[1].append(message)
        for prefetching, batch in by_handler.values():
            await prefetching.prefetch(db, batch)

    def _sent(self, sent: list[outbox.Claimed]) -> None:
        """Counted once the batch committed: a rolled-back record is no delivery."""
        now = clock.now()
        for message in sent:
            self._count(message, "sent")
            if self.metrics:
                lag = (now - message.created_at).total_seconds()
                self.metrics.relay_lag.labels(message.topic).observe(lag)

    async def _retry(self, db: AsyncSession, message: outbox.Claimed, outcome: Transient) -> None:
        if clock.now() - message.created_at > self.options.give_up_after:
            reason = f"retries exhausted after {message.attempts} attempts: {outcome.reason}"
            await self.handlers[message.topic].record(db, message, Permanent(0, reason))
            await outbox.mark_failed(db, message.id, reason)
            self._count(message, "failed")
            log.error("relay: gave up", extra={"topic": message.topic, "reason": reason})
            return
        await outbox.retry_later(
            db, message.id, clock.now() + self.backoff(message, outcome), outcome.reason
        )
        self._count(message, "retry")

    def backoff(self, message: outbox.Claimed, outcome: Transient) -> timedelta:
        """Full jitter: random in [0, min(max, 2^attempt)) seconds, at least Retry-After."""
        ceiling = min(self.options.max_backoff, 2.0 ** min(message.attempts, 30))
        return timedelta(seconds=max(random.uniform(0, ceiling), outcome.retry_after or 0.0))

    def _count(self, message: outbox.Claimed, outcome: str) -> None:
        if self.metrics:
            self.metrics.relay_attempts.labels(message.topic, outcome).inc()
