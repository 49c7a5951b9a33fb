"""The relay process's periodic loops keep going through a database outage, saying so in
one warning line per try (a traceback only for what is not an outage)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import OperationalError

from portal.relay.runner import Chore, Relay


def _loop_once_per(chore_error: Exception, caplog: pytest.LogCaptureFixture) -> list[str]:
    tries = 0

    async def chore() -> int:
        nonlocal tries
        tries += 1
        raise chore_error

    async def briefly() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.35, stop.set)
        relay = Relay(worker=None, api=None)  # type: ignore[arg-type]
        await relay._chore_loop(stop, Chore("sweep", chore, every=0.1))

    asyncio.run(briefly())
    assert tries >= 2  # the loop went on after the failure
    return [r.levelname for r in caplog.records if r.name == "portal.relay.runner"]


def test_a_chore_meeting_a_database_outage_warns_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = OperationalError("select", {}, ConnectionRefusedError(111, "refused"))
    assert set(_loop_once_per(down, caplog)) == {"WARNING"}


def test_a_chore_failing_otherwise_logs_the_error(caplog: pytest.LogCaptureFixture) -> None:
    assert set(_loop_once_per(ValueError("a bug"), caplog)) == {"ERROR"}
