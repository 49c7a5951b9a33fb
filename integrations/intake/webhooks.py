"""Standard Webhooks signatures (https://www.standardwebhooks.com): verify what the platform
pushes, sign what the sandbox platform sends. Built on the ``standardwebhooks`` library; this
module adds key rotation on the receiving side (several accepted secrets) and one error type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class InvalidWebhook(Exception):
    """Missing headers, a stale or future timestamp, or no matching signature."""


class MalformedWebhook(Exception):
    """Validly signed, but the body is not JSON."""


def verify(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> Any:
    """The JSON body, when one of ``secrets`` signed it within the 5-minute tolerance."""
    if not secrets:
        raise InvalidWebhook("no webhook secret configured")
    wanted = {
        k.lower(): v
        for k, v in headers.items()
        if k.lower() in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    last: Exception | None = None
    for secret in secrets:
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
        except (WebhookVerificationError, ValueError) as exc:  # ValueError: malformed header
            last = exc
            continue
        try:
            return json.loads(body)
        except ValueError as exc:  # signed, but not JSON: the sender's bug, not an intruder
            raise MalformedWebhook("the signed body is not JSON") from exc
    raise InvalidWebhook(str(last))


def sign(secret: str, message_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The three headers that make ``body`` a signed webhook."""
    signature = Webhook(secret).sign(message_id, timestamp, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
