import base64
import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from integrations.intake.webhooks import InvalidWebhook, sign, verify

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
OLD = "whsec_" + base64.b64encode(os.urandom(24)).decode()
BODY = json.dumps({"type": "item.accepted", "sequence": 3}).encode()


def test_a_signed_webhook_verifies() -> None:
    headers = sign(SECRET, "msg_1", datetime.now(UTC), BODY)
    assert verify([SECRET], BODY, headers) == {"type": "item.accepted", "sequence": 3}


def test_key_rotation_accepts_either_secret() -> None:
    headers = sign(OLD, "msg_2", datetime.now(UTC), BODY)
    assert verify([SECRET, OLD], BODY, headers)["sequence"] == 3


@pytest.mark.parametrize("change", ["body", "secret", "stale", "future", "missing", "garbage"])
def test_tampered_stale_or_malformed_webhooks_are_refused(change: str) -> None:
    when = datetime.now(UTC)
    if change == "stale":
        when -= timedelta(minutes=6)
    if change == "future":
        when += timedelta(minutes=6)
    headers = sign(OLD if change == "secret" else SECRET, "msg_3", when, BODY)
    body = BODY.replace(b"3", b"4") if change == "body" else BODY
    if change == "missing":
        del headers["webhook-signature"]
    if change == "garbage":
        headers["webhook-signature"] = "not-a-signature"
    with pytest.raises(InvalidWebhook):
        verify([SECRET], body, headers)


def test_no_secret_means_nothing_verifies() -> None:
    with pytest.raises(InvalidWebhook):
        verify([], BODY, sign(SECRET, "msg_4", datetime.now(UTC), BODY))
