"""The portal and the sandbox on loopback ports for each fault test: with the relay inside
the portal process, or without it (the test runs ``portal relay`` processes itself)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.settings import Settings
from tests.faults.ledger import store_of
from tests.faults.rig import wait_until
from tests.relay.live import Live, live_portal

DAY_SECONDS = 0.05  # the sandbox's working day: an application concludes within seconds


@pytest.fixture
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("faults")
    with live_portal(settings, tmp, day_seconds=DAY_SECONDS) as running:
        yield running
        quiet(running)


@pytest.fixture
def live_without_relay(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("faults")
    with live_portal(settings, tmp, relay_in_process=False, day_seconds=DAY_SECONDS) as running:
        yield running
        quiet(running)


def quiet(live: Live) -> None:
    """Lets the sandbox finish what it is sending (a last duplicate delivery) before the
    servers stop: a delivery cut off by the stop leaves an unawaited coroutine behind."""
    store = store_of(live.sandbox)
    store.outbox.duplicate_rate = 0.0
    wait_until(lambda: not store.tasks, 60)
