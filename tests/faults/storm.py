"""A webhook storm: every event the sandbox platform has delivered is sent again
``copies`` more times, at random moments over the next seconds (so older ones land after
newer ones), by several senders at once, each signed like the platform signs
(``signed_headers``: Standard Webhooks, the client's real secret, a fresh timestamp)."""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx2
from starlette.applications import Starlette

from integrations.sandbox.intake_webhooks import Message, signed_headers
from tests.faults.ledger import store_of

SPREAD = 3.0  # seconds over which one event's redeliveries are scattered


@dataclass
class Storm:
    sandbox: Starlette
    copies: int = 9  # with the platform's own delivery: 10× the event rate
    senders: int = 4
    answers: Counter[int] = field(default_factory=Counter)  # status → count (0: no answer)
    _due: list[tuple[float, int, Message]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Storm:
        self._threads = [threading.Thread(target=self._schedule, daemon=True)]
        self._threads += [
            threading.Thread(target=self._send, daemon=True) for _ in range(self.senders)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (self._due or self._behind()):
            time.sleep(0.2)  # every delivered event gets all its copies
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    @property
    def sent(self) -> int:
        return sum(self.answers.values())

    def _behind(self) -> bool:
        """Events still to be delivered by the platform, or not yet given their copies."""
        messages = list(store_of(self.sandbox).outbox.messages)
        return any(not m.delivered or m.message_id not in self._seen for m in messages)

    def _schedule(self) -> None:
        """Each newly delivered message: ``copies`` redeliveries at random times."""
        tie = 0
        while not self._stop.is_set():
            for message in list(store_of(self.sandbox).outbox.messages):
                if not message.delivered or message.message_id in self._seen:
                    continue
                self._seen.add(message.message_id)
                with self._lock:
                    for _ in range(self.copies):
                        tie += 1
                        at = time.monotonic() + random.uniform(0, SPREAD)
                        heapq.heappush(self._due, (at, tie, message))
            self._stop.wait(0.1)

    def _send(self) -> None:
        with httpx2.Client(timeout=30.0) as http:
            while not self._stop.is_set():
                with self._lock:
                    ready = self._due and self._due[0][0] <= time.monotonic()
                    message = heapq.heappop(self._due)[2] if ready else None
                if message is None:
                    self._stop.wait(0.02)
                    continue
                try:
                    status = http.post(
                        message.client.webhook_url,
                        content=message.body,
                        headers=signed_headers(message),
                    ).status_code
                except httpx2.TransportError:
                    status = 0
                with self._lock:
                    self.answers[status] += 1
