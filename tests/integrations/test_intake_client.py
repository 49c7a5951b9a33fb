"""How the intake client reads the platform's answers (docs/intake-api.md §9)."""

from __future__ import annotations

import httpx2

from integrations.intake.client import Permanent, Transient, _outcome


def test_only_a_key_in_flight_is_marked_in_flight() -> None:
    busy = _outcome(httpx2.Response(409, headers={"retry-after": "1"}))
    assert busy == Transient("HTTP 409", 1.0, in_flight=True)
    for status in (408, 429, 500, 503):
        outcome = _outcome(httpx2.Response(status))
        assert isinstance(outcome, Transient) and not outcome.in_flight
    assert isinstance(_outcome(httpx2.Response(422, json={"type": "x/y"})), Permanent)
