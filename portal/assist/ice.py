"""ICE servers for the browsers' RTCPeerConnection, from settings. TURN URLs get coturn's
time-limited credentials (its ``use-auth-secret`` REST scheme): the username is the expiry
time, the password an HMAC-SHA1 of it under the shared secret, so no long-lived TURN
password ever reaches a page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

TTL_SECONDS = 6 * 3600


def ice_servers(
    urls: str, turn_secret: str, person_id: int, now: float | None = None
) -> list[dict[str, Any]]:
    stun = [u for u in urls.split() if u.startswith(("stun:", "stuns:"))]
    turn = [u for u in urls.split() if u.startswith(("turn:", "turns:"))]
    servers: list[dict[str, Any]] = [{"urls": stun}] if stun else []
    if turn and turn_secret:
        expiry = int((now if now is not None else time.time()) + TTL_SECONDS)
        username = f"{expiry}:{person_id}"
        digest = hmac.new(turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {"urls": turn, "username": username, "credential": base64.b64encode(digest).decode()}
        )
    return servers
