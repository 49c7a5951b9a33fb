"""The Idempotency-Key rules of docs/intake-api.md §5, in its order: a missing or malformed
key is 400; a key seen with another fingerprint is 422 whether or not the first has
finished; a key whose first request is in flight is 409 with ``Retry-After: 1``; a finished
one replays the first response. Only 2xx and 4xx answers of processing are stored; a 5xx
frees the key. Keys live 7 days from the first request; an in-flight key whose request died
without answering is free again after 60 seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

from integrations.sandbox.intake_problems import problem
from integrations.sandbox.intake_store import (
    IN_FLIGHT_SECONDS,
    KEY_DAYS,
    IntakeStore,
    KeyRecord,
    StoredResponse,
)
from integrations.sandbox.intake_time import now

KEY = re.compile(r'^"?([A-Za-z0-9._:-]{1,64})"?$')
REPLAYED_HEADERS = ("location", "content-type", "cache-control")


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    """Exactly the contract's function (§5): JCS by the standard library, as the API has
    no floats and only ASCII member names."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def parse_key(request: Request) -> str | Response:
    """The key without its quotes, or the 400 that says why there is none."""
    raw = request.headers.get("idempotency-key")
    if raw is None or not raw.strip():
        detail = "Every POST needs an Idempotency-Key header; none was sent. Nothing was done."
        return problem(request, 400, "idempotency-key-missing", detail)
    match = KEY.match(raw.strip())
    if match is None or raw.strip().count('"') not in (0, 2):
        detail = (
            "The Idempotency-Key must be a structured-field string of 1 to 64 characters from "
            f"A-Z a-z 0-9 - _ . : (got {len(raw)} characters). Nothing was done."
        )
        return problem(request, 400, "idempotency-key-invalid", detail)
    return match.group(1)


@dataclass(frozen=True)
class Claim:
    """The outcome of looking a key up: ``new`` (the caller processes and must ``finish``
    or ``release``), or an answer to give as it is."""

    outcome: Literal["new", "answer"]
    answer: Response | None = None


def claim(request: Request, store: IntakeStore, client_id: str, key: str, print_: str) -> Claim:
    """Look ``key`` up and reserve it when it is new; no await, so it is atomic."""
    forget_old(store)
    record = store.keys.get((client_id, key))
    stuck = record is not None and record.response is None
    if stuck and record is not None and time.monotonic() - record.started > IN_FLIGHT_SECONDS:
        record = None
    if record is None:
        store.keys[(client_id, key)] = KeyRecord(print_, now(), time.monotonic())
        return Claim("new")
    if record.fingerprint != print_:
        detail = (
            "This key was first used with a different request (method, path or body). Use a "
            "new key for a new request; to repeat the first one, send exactly its body."
        )
        answer = problem(
            request,
            422,
            "idempotency-key-reused",
            detail,
            idempotency_key=key,
            fingerprint_first=record.fingerprint,
            fingerprint_received=print_,
        )
        return Claim("answer", answer)
    if record.response is None:
        detail = (
            "The first request with this key has not finished. Retry after the Retry-After "
            "delay with the same key and body; you will get its response."
        )
        answer = problem(
            request,
            409,
            "idempotency-key-in-use",
            detail,
            headers={"retry-after": "1"},
            idempotency_key=key,
        )
        return Claim("answer", answer)
    return Claim("answer", replay(record.response))


def finish(store: IntakeStore, client_id: str, key: str, response: Response) -> None:
    """Store a 2xx or 4xx; free the key after anything else (the effect did not happen)."""
    record = store.keys.get((client_id, key))
    if record is None:
        return
    if response.status_code >= 500:
        del store.keys[(client_id, key)]
        return
    headers = tuple((k, v) for k, v in response.headers.items() if k in REPLAYED_HEADERS)
    record.response = StoredResponse(response.status_code, bytes(response.body), headers)


def release(store: IntakeStore, client_id: str, key: str) -> None:
    record = store.keys.get((client_id, key))
    if record is not None and record.response is None:
        del store.keys[(client_id, key)]


def replay(stored: StoredResponse) -> Response:
    headers = dict(stored.headers) | {"idempotent-replayed": "true"}
    return Response(stored.body, stored.status, headers)


def forget_old(store: IntakeStore) -> None:
    horizon = now() - timedelta(days=KEY_DAYS)
    for key in [k for k, record in store.keys.items() if record.first_seen < horizon]:
        del store.keys[key]
