"""Relay worker processes killed with SIGKILL again and again while citizens submit, and
started again: the rows a killed worker held come back when their lease ends, and nothing
reaches the platform twice."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import time

from portal import clock
from tests.draft_copies import copy_drafts
from tests.faults.ledger import exactly_once, settle
from tests.faults.load import Load
from tests.faults.rig import citizen, report, scale, webhook_outcomes
from tests.relay.live import Live, relay_process

WORKERS = 2


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_relay_workers_killed_under_load_lose_and_double_nothing(
    live_without_relay: Live,
) -> None:
    live, size, since = live_without_relay, scale(), clock.now()
    person = citizen(live.url)
    drafts = asyncio.run(copy_drafts(live.sessionmaker, person.draft, size.submissions))
    live.control("faults", {"latency_ms": 200})  # deliveries take a while: kills land mid-batch
    relay = relay_process(live.settings, WORKERS)
    kills = 0
    try:
        with Load(
            live.url, person.cookies, person.csrf, drafts, size.submitters, size.readers
        ) as load:
            for _ in range(size.cycles):
                time.sleep(random.uniform(1.0, size.fault_seconds))
                _kill(relay)
                kills += 1
                time.sleep(0.5)  # down for a moment: submissions wait in the outbox
                relay = relay_process(live.settings, WORKERS)
            live.control("faults", {"latency_ms": 0})
            recovered = time.monotonic()
            assert load.wait_submitted(size.settle_seconds)
        settled = settle(
            live.sessionmaker,
            live.sandbox,
            live.settings.intake_client_id,
            drafts,
            since,
            size.settle_seconds,
        )
        drained = time.monotonic() - recovered
    finally:
        os.killpg(relay.pid, signal.SIGTERM)
        relay.wait(30)

    exactly_once(settled, load.accepted)
    assert load.failures() == [], load.failures()[:5]
    report(
        "relay_kills",
        {
            "submissions": len(settled.portal.applications),
            "kills": kills,
            "workers": WORKERS,
            "platform_answers": live.stats()["requests"],
            "events": sum(settled.sandbox.events.values()),
            "webhook_attempts_failed": settled.sandbox.failed_deliveries,
            "webhook_outcomes": webhook_outcomes(live.url),
            "seconds_to_drain_after_last_restart": round(drained, 1),
            "responses": load.counts(),
        },
    )
