"""The sandbox intake platform's state, in memory like the license library's: clients and
their access tokens, Idempotency-Key records, applications, the demo scenarios, the fault
and speed knobs, the webhook outbox, and the simulation's running tasks.

The simulation runs as asyncio tasks started from request handlers (the intake app is
mounted inside other apps, so its lifespan never runs); ``spawn`` keeps a reference to
each until it ends so none is garbage-collected half way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from integrations.sandbox.intake_models import ApplicationRecord, IntakeClient, Json
from integrations.sandbox.intake_rating_records import RatingRecord
from integrations.sandbox.intake_webhooks import Outbox
from portal.catalog.loader import Catalog

log = logging.getLogger(__name__)

TOKEN_SECONDS = 7200
KEY_DAYS = 7
IN_FLIGHT_SECONDS = 60.0
MAX_STEP = 0.25
SCENARIOS = ("approve", "supplement_intake", "supplement_item", "refuse_item", "not_accept_item")
# The built-in demo people whose applications do not simply go through (docs/sandbox-intake.md).
DEMO_SCENARIOS = {
    "410726200001010089": "supplement_intake",  # 测试用户
    "41072519900611079X": "refuse_item",  # 周杰
}


@dataclass(frozen=True)
class Token:
    client: IntakeClient
    scopes: frozenset[str]
    expires_at: float  # loop-independent monotonic seconds


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


@dataclass
class KeyRecord:
    """One Idempotency-Key of one client: the first request's fingerprint, and its
    response once it has finished (None while it is in flight)."""

    fingerprint: str
    first_seen: datetime
    started: float
    response: StoredResponse | None = None


@dataclass
class Faults:
    error_rate: float = 0.0
    latency_ms: int = 0
    outage: bool = False


@dataclass
class IntakeStore:
    clients: dict[str, IntakeClient]
    public_url: str
    licenses_api: str
    api_key: str
    speed: float
    catalog_source: Callable[[], Catalog]
    tokens: dict[str, Token] = field(default_factory=dict)
    keys: dict[tuple[str, str], KeyRecord] = field(default_factory=dict)
    applications: dict[tuple[str, str], ApplicationRecord] = field(default_factory=dict)
    scenarios: dict[str, str] = field(default_factory=lambda: dict(DEMO_SCENARIOS))
    faults: Faults = field(default_factory=Faults)
    requests: Counter[int] = field(default_factory=Counter)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    numbers: count[int] = field(default_factory=lambda: count(318))
    ratings: dict[tuple[str, str], RatingRecord] = field(default_factory=dict)
    rating_mode: str = "planned"  # how bad ratings are followed up (intake_ratings)
    rating_days: int = 15  # the locality's rectification period, in working days
    outbox: Outbox = field(init=False)
    _catalog: Catalog | None = None

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.spawn)

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = self.catalog_source()
        return self._catalog

    @property
    def base_url(self) -> str:
        return f"{self.public_url}/v1"

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and (problem := task.exception()) is not None:
            log.error("intake simulation task failed", exc_info=problem)

    async def pause(self, working_days: float) -> None:
        """Let ``working_days`` pass. Slept in short steps, so a new ``speed`` applies to
        waits already under way (a demo can slow down or hurry up a running application)."""
        remaining = working_days
        while remaining > 0:
            speed = self.speed
            step = min(remaining * speed, MAX_STEP)
            await asyncio.sleep(max(step, 0.001))
            remaining -= step / speed

    def emit(self, application: ApplicationRecord, event_type: str, data: Json) -> None:
        self.outbox.emit(self.clients[application.client_id], event_type, data)

    def next_number(self) -> int:
        return next(self.numbers)

    def stats(self) -> Json:
        stored = sum(1 for record in self.keys.values() if record.response is not None)
        return {
            "idempotency_keys": stored,
            "applications": len(self.applications),
            "ratings": len(self.ratings),
            "requests": {str(status): n for status, n in sorted(self.requests.items())},
            "webhooks": self.outbox.stats(),
        }


def make_store(
    clients: Sequence[IntakeClient],
    public_url: str,
    licenses_api: str,
    api_key: str,
    speed: float,
    catalog_source: Callable[[], Catalog],
) -> IntakeStore:
    for client in clients:
        if not client.webhook_secrets:
            raise ValueError(f"intake client {client.client_id} has no webhook secret")
    return IntakeStore(
        {client.client_id: client for client in clients},
        public_url.rstrip("/"),
        licenses_api.rstrip("/"),
        api_key,
        speed,
        catalog_source,
    )
