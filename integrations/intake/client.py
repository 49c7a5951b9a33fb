"""The portal's client of the intake API (docs/intake-api.md): OAuth 2.0 client credentials,
``Idempotency-Key`` on every write, and one answer type per way a call can end (§9).

The caller stores a write's exact body with its key and resends exactly those bytes, so
a retry is the same request; this client never rebuilds a body.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx2

TOKEN_MARGIN = 300  # renew a token this many seconds before it expires


@dataclass(frozen=True)
class Accepted:
    """2xx: the platform's application as the write left it (or as ``GET`` shows it)."""

    status: int
    application: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class Transient:
    """Try again later, same key and body: connection trouble, 408, 409, 429, 5xx.

    ``in_flight`` (409, key in use): the platform answered and is still running the first
    request with this key; it is alive, so this is no failure of the platform."""

    reason: str
    retry_after: float | None = None
    in_flight: bool = False


@dataclass(frozen=True)
class Permanent:
    """A 4xx that retrying cannot fix; ``problem`` is the RFC 9457 body when there is one."""

    status: int
    reason: str
    problem: dict[str, Any] | None = None


Outcome = Accepted | Transient | Permanent
RETRYABLE = frozenset({408, 409, 429})


class IntakeApi:
    def __init__(
        self,
        api_base: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.token_url = token_url
        self._credentials = (client_id, client_secret)
        self._http = httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout, connect=connect_timeout),
            limits=httpx2.Limits(max_connections=64, max_keepalive_connections=64),
        )
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> IntakeApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def write(self, path: str, body: bytes, key: str) -> Outcome:
        """POST ``body`` (exact bytes) to ``path`` under ``Idempotency-Key: key``."""
        headers = {"content-type": "application/json", "idempotency-key": f'"{key}"'}
        return await self._call("POST", path, body, headers)

    async def read(self, application_id: str) -> Outcome:
        return await self._call("GET", f"/applications/{application_id}", None, {})

    async def read_rating(self, application_id: str, rating_id: str) -> Outcome:
        """A rating (好差评) and its follow-up; ``Accepted.application`` holds the rating."""
        path = f"/applications/{application_id}/ratings/{rating_id}"
        return await self._call("GET", path, None, {})

    async def _call(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Outcome:
        for fresh_token in (False, True):
            try:
                token = await self._bearer(renew=fresh_token)
                response = await self._http.request(
                    method,
                    self.api_base + path,
                    content=body,
                    headers={**headers, "authorization": f"Bearer {token}"},
                )
            except _TokenRefused as refused:
                return Permanent(refused.status, refused.reason)
            except httpx2.TimeoutException:
                return Transient("timeout")
            except httpx2.TransportError as exc:
                return Transient(f"connection: {type(exc).__name__}")
            except _TokenUnavailable as unavailable:
                return Transient(unavailable.reason, unavailable.retry_after)
            if response.status_code != 401 or fresh_token:
                return _outcome(response)
        raise AssertionError("unreachable")

    async def _bearer(self, *, renew: bool) -> str:
        async with self._token_lock:
            if renew or self._token is None or self._token[1] < time.monotonic():
                self._token = await self._fetch_token()
            return self._token[0]

    async def _fetch_token(self) -> tuple[str, float]:
        try:
            response = await self._http.post(
                self.token_url,
                data={
                    "grant_type": "client_credentials",
                    "scope": "applications.write applications.read",
                },
                auth=self._credentials,
            )
        except httpx2.TimeoutException:
            raise _TokenUnavailable("token: timeout", None) from None
        except httpx2.TransportError as exc:
            raise _TokenUnavailable(f"token: connection: {type(exc).__name__}", None) from None
        if response.status_code >= 500 or response.status_code in RETRYABLE:
            raise _TokenUnavailable(f"token: HTTP {response.status_code}", _retry_after(response))
        if response.status_code != 200:
            raise _TokenRefused(response.status_code, f"token refused: {response.text[:200]}")
        grant = response.json()
        expires_in = float(grant.get("expires_in", 3600))
        return grant["access_token"], time.monotonic() + max(expires_in - TOKEN_MARGIN, 1.0)


class _TokenUnavailable(Exception):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        self.reason, self.retry_after = reason, retry_after


class _TokenRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason


def _outcome(response: httpx2.Response) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        replayed = response.headers.get("idempotent-replayed", "").lower() == "true"
        return Accepted(status, response.json(), replayed)
    if status >= 500 or status in RETRYABLE:
        return Transient(f"HTTP {status}", _retry_after(response), in_flight=status == 409)
    problem = _problem(response)
    reason = f"HTTP {status}"
    if problem:
        reason += f" {problem.get('type', '').rsplit('/', 1)[-1]}: {problem.get('detail', '')}"
    return Permanent(status, reason.strip(), problem)


def _problem(response: httpx2.Response) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _retry_after(response: httpx2.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None
