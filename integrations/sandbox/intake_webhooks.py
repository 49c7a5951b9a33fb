"""The platform's webhook sender (docs/intake-api.md §7): every event becomes a message
``msg_<ULID>`` POSTed to the client's endpoint as the Standard Webhooks envelope, signed with
every one of the client's secrets, retried until a 2xx and never dropped.

Each message has its own delivery task, so messages go out several at a time and a failing
one holds back nothing. The sandbox's retry schedule is the contract's compressed to
seconds: 0.5 s, 1 s, 2 s, 5 s, then every 10 s. ``shuffle`` and ``duplicate_rate`` make the
at-least-once, unordered delivery visible on purpose, so receivers can prove they cope.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2

from integrations.intake.webhooks import sign
from integrations.sandbox.intake_models import IntakeClient, Json
from integrations.sandbox.intake_time import iso, now, ulid
from integrations.tls import shared_context

log = logging.getLogger(__name__)

BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
TIMEOUT = 15.0
CONCURRENCY = 8
SHUFFLE_SECONDS = 0.3

Spawn = Callable[[Coroutine[Any, Any, None]], None]


@dataclass
class Message:
    client: IntakeClient
    message_id: str
    type: str
    data: Json
    body: bytes
    attempts: int = 0
    delivered: bool = False


@dataclass
class Outbox:
    spawn: Spawn
    shuffle: bool = False
    duplicate_rate: float = 0.0
    messages: list[Message] = field(default_factory=list)
    failed_attempts: int = 0
    duplicates: int = 0
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def emit(self, client: IntakeClient, event_type: str, data: Json) -> Message:
        """Queue one event; the envelope and its bytes are fixed now, the same in every
        attempt (only ``webhook-timestamp`` and the signatures change)."""
        envelope = {"type": event_type, "timestamp": iso(now()), "data": data}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        message = Message(client, f"msg_{ulid()}", event_type, data, body)
        self.messages.append(message)
        self.spawn(self._deliver(message))
        return message

    def stats(self) -> dict[str, int]:
        sent = sum(1 for m in self.messages if m.delivered)
        return {
            "sent": sent,
            "failed_attempts": self.failed_attempts,
            "pending": len(self.messages) - sent,
            "duplicates": self.duplicates,
        }

    async def _deliver(self, message: Message) -> None:
        if not message.client.webhook_url:
            return  # no endpoint registered: the message stays pending
        if self.shuffle:
            await asyncio.sleep(random.uniform(0, SHUFFLE_SECONDS))
        while not await self._attempt(message):
            self.failed_attempts += 1
            await asyncio.sleep(BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)])
        message.delivered = True
        if random.random() < self.duplicate_rate:
            self.duplicates += 1
            await self._attempt(message)

    async def _attempt(self, message: Message) -> bool:
        message.attempts += 1
        slots = self._slots.setdefault(message.client.client_id, asyncio.Semaphore(CONCURRENCY))
        async with slots:
            try:
                async with httpx2.AsyncClient(
                    timeout=TIMEOUT, follow_redirects=False, verify=shared_context()
                ) as http:
                    answer = await http.post(
                        message.client.webhook_url,
                        content=message.body,
                        headers=signed_headers(message),
                    )
            except httpx2.HTTPError as exc:
                log.info("webhook %s to %s: %s", message.message_id, message.client.client_id, exc)
                return False
        return 200 <= answer.status_code < 300


def signed_headers(message: Message) -> dict[str, str]:
    """Standard Webhooks headers, one ``v1,`` signature per secret, space-separated."""
    when = datetime.now(UTC)
    signatures = [
        sign(secret, message.message_id, when, message.body)["webhook-signature"]
        for secret in message.client.webhook_secrets
    ]
    headers = sign(message.client.webhook_secrets[0], message.message_id, when, message.body)
    headers["webhook-signature"] = " ".join(signatures)
    return headers | {"content-type": "application/json", "user-agent": "intake-webhooks/1"}
