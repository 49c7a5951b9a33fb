"""PostgreSQL restarted under load, in fast and in immediate (crash-like) shutdown mode,
with the portal (``portal serve``) and the relay (``portal relay``) as their own processes on
a throwaway cluster. While it is down pages may answer 503, with the plain "try again later"
page, never a 500; nothing submitted is lost or half made; both processes recover by
themselves (pool pre-ping, reconnecting) and the outbox drains."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from auth.crypto import PersonalDataCipher
from portal import clock, sealed
from portal.db import make_engine, make_sessionmaker
from portal.db_migrate import upgrade
from portal.settings import Settings
from tests.draft_copies import copy_drafts
from tests.faults.cluster import Cluster, bindir, throwaway_cluster
from tests.faults.conftest import DAY_SECONDS
from tests.faults.ledger import exactly_once, settle, store_of
from tests.faults.load import Hit, Load
from tests.faults.rig import citizen, report, scale, wait_until, webhook_outcomes
from tests.integrations.helpers import serve
from tests.relay.live import pair, relay_process, settings_env

GRACE = 3.0  # seconds after the server is back in which a request begun before may still fail


@dataclass
class Processes:
    url: str
    settings: Settings
    sandbox: Starlette
    sessionmaker: async_sessionmaker[AsyncSession]
    portal: subprocess.Popen[bytes]
    relay: subprocess.Popen[bytes]

    def healthy(self) -> bool:
        try:
            return httpx2.get(f"{self.url}/healthz", timeout=5.0).status_code == 200
        except httpx2.TransportError:
            return False


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if bindir() is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with throwaway_cluster() as made:
        yield made


@contextmanager
def processes(settings: Settings, tmp: Path, cluster: Cluster) -> Iterator[Processes]:
    base = replace(settings, database_url=cluster.url, database_pool_size=5)
    made = pair(base, tmp, relay_in_process=False, day_seconds=DAY_SECONDS)
    upgrade(cluster.url)
    sealed.configure(PersonalDataCipher(made.settings.data_key))  # the drafts' sealed values
    env = settings_env(made.settings, log_level="WARNING")
    command = [sys.executable, "-m", "portal.cli", "serve", "--port", str(made.portal_port)]
    with serve(made.sandbox, made.sandbox_port):
        portal = subprocess.Popen(command, env=env, start_new_session=True)
        relay = relay_process(made.settings, 1, lease_seconds=5)
        running = Processes(
            made.url,
            made.settings,
            made.sandbox,
            make_sessionmaker(make_engine(cluster.url, 0)),
            portal,
            relay,
        )
        try:
            assert wait_until(running.healthy, 60), "portal serve did not start"
            yield running
        finally:
            wait_until(lambda: not store_of(made.sandbox).tasks, 60)
            for process in (relay, portal):
                os.killpg(process.pid, signal.SIGTERM)
            for process in (relay, portal):
                process.wait(30)


def test_postgres_restarts_under_load_lose_nothing_and_show_503_not_500(
    cluster: Cluster, settings: Settings, tmp_path: Path
) -> None:
    size, since = scale(), clock.now()
    with processes(settings, tmp_path, cluster) as running:
        person = citizen(running.url)
        drafts = asyncio.run(copy_drafts(running.sessionmaker, person.draft, size.submissions))
        windows: list[tuple[float, float]] = []
        recoveries: list[float] = []
        with Load(
            running.url, person.cookies, person.csrf, drafts, size.submitters, size.readers
        ) as load:
            for cycle in range(size.cycles):
                time.sleep(1.0)
                down = time.monotonic()
                cluster.stop("fast" if cycle % 2 == 0 else "immediate")
                time.sleep(size.fault_seconds)
                cluster.start()
                assert wait_until(running.healthy, 60), "the portal did not reconnect"
                recoveries.append(round(time.monotonic() - down - size.fault_seconds, 1))
                windows.append((down, time.monotonic() + GRACE))
            recovered = time.monotonic()
            assert load.wait_submitted(size.settle_seconds)
        settled = settle(
            running.sessionmaker,
            running.sandbox,
            running.settings.intake_client_id,
            drafts,
            since,
            size.settle_seconds,
        )
        drained = time.monotonic() - recovered
        assert running.portal.poll() is None and running.relay.poll() is None
        outcomes = webhook_outcomes(running.url)

    def during_restart(hit: Hit) -> bool:
        return hit.status == 503 and hit.clear and any(a <= hit.at <= b for a, b in windows)

    assert [h for h in load.hits if h.status == 500] == []
    assert load.failures(during_restart) == [], load.failures(during_restart)[:5]
    exactly_once(settled, load.accepted)
    report(
        "postgres_restart",
        {
            "submissions": len(settled.portal.applications),
            "restarts": size.cycles,
            "seconds_down_each": size.fault_seconds,
            "seconds_to_healthy_after_start": recoveries,
            "answered_503_while_down": sum(1 for h in load.hits if during_restart(h)),
            "submit_retries": sum(load.retried.values()),
            "events": sum(settled.sandbox.events.values()),
            "webhook_attempts_failed": settled.sandbox.failed_deliveries,
            "webhook_outcomes": outcomes,
            "seconds_to_drain_after_last_restart": round(drained, 1),
            "responses": load.counts(),
        },
    )
