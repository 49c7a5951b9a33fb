"""The intake platform slow under load: first slower than the relay waits (every call
times out while the platform goes on and finishes it: the retry must get the stored answer,
never a second application), then slow but in time, then normal again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from portal import clock
from portal.settings import Settings
from tests.draft_copies import copy_drafts
from tests.faults.conftest import DAY_SECONDS
from tests.faults.ledger import exactly_once, settle
from tests.faults.load import Load
from tests.faults.rig import citizen, counters, report, scale, webhook_outcomes
from tests.relay.live import Live, live_portal

TIMEOUT_SECONDS = 1.0  # the relay's wait for one answer in this test


@pytest.fixture
def impatient(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    quick = replace(settings, intake_timeout_seconds=TIMEOUT_SECONDS)
    tmp = tmp_path_factory.mktemp("slow")
    with live_portal(quick, tmp, day_seconds=DAY_SECONDS) as running:
        yield running


def test_a_slow_platform_under_load_loses_and_doubles_nothing(impatient: Live) -> None:
    live, size, since = impatient, scale(), clock.now()
    person = citizen(live.url)
    drafts = asyncio.run(copy_drafts(live.sessionmaker, person.draft, size.submissions))
    live.control("faults", {"latency_ms": int(TIMEOUT_SECONDS * 2500)})  # every call times out
    with Load(live.url, person.cookies, person.csrf, drafts, size.submitters, size.readers) as load:
        time.sleep(size.fault_seconds)
        live.control("faults", {"latency_ms": int(TIMEOUT_SECONDS * 600)})  # slow, in time
        time.sleep(size.fault_seconds)
        live.control("faults", {"latency_ms": 0})
        recovered = time.monotonic()
        assert load.wait_submitted(size.settle_seconds)
    client_id = live.settings.intake_client_id
    settled = settle(live.sessionmaker, live.sandbox, client_id, drafts, since, size.settle_seconds)
    drained = time.monotonic() - recovered

    exactly_once(settled, load.accepted)
    assert load.failures() == [], load.failures()[:5]
    requests = live.stats()["requests"]
    report(
        "slow_platform",
        {
            "submissions": len(settled.portal.applications),
            "platform_answers": requests,
            "relay_attempts": counters(live.url, "portal_relay_attempts"),
            "events": sum(settled.sandbox.events.values()),
            "webhook_attempts_failed": settled.sandbox.failed_deliveries,
            "webhook_outcomes": webhook_outcomes(live.url),
            "seconds_to_drain_after_recovery": round(drained, 1),
            "responses": load.counts(),
        },
    )
