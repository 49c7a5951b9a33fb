"""Faults the relay must survive without losing or doubling anything: the platform down while
200 applications are submitted, and relay processes killed with SIGKILL mid-batch."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.relay.live import (
    Live,
    apply_newborn,
    clone_submissions,
    live_portal,
    relay_process,
    relayed,
)

SLOW = 3600.0  # a working day per hour: nothing moves past review during these tests


def wait_until(check, timeout: float, every: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(every)
    return result


def _source(live: Live) -> str:
    with TestClient(live.app, base_url=live.url) as browser:
        return apply_newborn(browser).rsplit("/", 1)[1]


@pytest.fixture
def in_process(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_portal(settings, tmp_path_factory.mktemp("outage"), day_seconds=SLOW) as live:
        yield live


def test_an_outage_during_200_submissions_loses_and_doubles_nothing(in_process: Live) -> None:
    live = in_process
    source = _source(live)
    assert wait_until(lambda: live.call(lambda: relayed(live, [source])) == 1, 30)
    live.control("faults", {"outage": True})
    clones = live.call(lambda: clone_submissions(live, source, 200))
    time.sleep(2.0)  # the relay tries, fails, backs off, opens its breaker
    assert live.call(lambda: relayed(live, clones)) == 0
    assert live.platform_counts(clones) == (0, 0)
    assert live.stats()["requests"].get("503", 0) > 0

    live.control("faults", {"outage": False})
    assert wait_until(lambda: live.call(lambda: relayed(live, clones)) == 200, 90)
    assert live.platform_counts(clones) == (200, 200)
    assert live.stats()["requests"].get("422", 0) == 0  # never "application-exists"


@pytest.fixture
def without_relay(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("crash")
    with live_portal(settings, tmp, relay_in_process=False, day_seconds=SLOW) as live:
        yield live


def test_relay_processes_killed_mid_batch_lose_and_double_nothing(without_relay: Live) -> None:
    live = without_relay
    source = _source(live)
    clones = live.call(lambda: clone_submissions(live, source, 200))
    everything = [source, *clones]
    # Each answer takes 0.4 s: a worker's 32 at a time, two workers, the 201 take about 1.6 s
    # (at 40 ms they took 0.2 s on a fast machine, and the kill came after the last).
    live.control("faults", {"latency_ms": 400})

    workers = 2
    first = relay_process(live.settings, workers)
    try:
        assert wait_until(lambda: live.call(lambda: relayed(live, everything)) >= 30, 60, 0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    done = live.call(lambda: relayed(live, everything))
    assert done < 201, "the kill came too late to test anything"

    live.control("faults", {"latency_ms": 0})
    second = relay_process(live.settings, workers)
    try:
        assert wait_until(lambda: live.call(lambda: relayed(live, everything)) == 201, 90)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(20)
    assert live.platform_counts(everything) == (201, 201)
    assert live.stats()["requests"].get("422", 0) == 0
