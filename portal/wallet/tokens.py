"""Verification tokens (亮证码): ``<id>.<expiry>.<signature>``, signed with a key derived from
the portal's secret. The signature makes any change detectable and the expiry readable
without the database; the ``wallet_tokens`` row makes a token revocable and says what it
discloses. Pure: no I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Signed:
    token_id: str
    expires_at: datetime


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"portal wallet verification token\x00" + secret.encode()).digest()


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(_key(secret), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_token_id() -> str:
    return secrets.token_urlsafe(16)


def sign(secret: str, token_id: str, expires_at: datetime) -> str:
    body = f"{token_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(secret, body)}"


def read(secret: str, token: str) -> Signed | None:
    """The token's id and expiry, or None when it was not signed by us or was altered."""
    body, _, signature = token.rpartition(".")
    token_id, _, expiry = body.partition(".")
    if not (token_id and expiry.isdigit() and signature):
        return None
    if not hmac.compare_digest(_mac(secret, body), signature):
        return None
    return Signed(token_id, datetime.fromtimestamp(int(expiry), UTC))
