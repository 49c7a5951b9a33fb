"""``portal relay``: relay workers as their own processes, beside ``portal serve`` (with
``PORTAL_RELAY_IN_PROCESS=false``). SIGTERM or SIGINT finishes the batch in hand and stops;
a SIGKILL loses nothing either: the rows it held come back when their lease ends."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys

import portal.models  # noqa: F401 (every table mapped: foreign keys resolve outside the app)
from auth.crypto import PersonalDataCipher
from portal import sealed
from portal.db import make_engine, make_sessionmaker
from portal.relay.runner import relay_for
from portal.settings import Settings
from portal.web.metrics import Metrics
from portal.web.request_id import configure_logging

log = logging.getLogger(__name__)


async def _one(settings: Settings, reconciling: bool) -> None:
    engine = make_engine(settings.database_url, settings.database_pool_size)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    cipher = PersonalDataCipher(settings.data_key)
    sealed.configure(cipher)
    try:
        # Counted in the files of PROMETHEUS_MULTIPROC_DIR when it is set: a `portal serve` on
        # the same host given the same directory shows them at its /metrics (docs/deploy.md).
        metrics = Metrics()
        async with relay_for(settings, make_sessionmaker(engine), cipher, metrics) as relay:
            log.info("relay worker started")
            await relay.run(stop, reconciling=reconciling)
    finally:
        await engine.dispose()
    log.info("relay worker stopped")


def run(workers: int = 1, reconciling: bool = True) -> int:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    if workers <= 1:
        asyncio.run(_one(settings, reconciling))
        return 0
    # One reconciles; the others only relay (reconciliation is meant to be gentle).
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "relay"]
            + ([] if index == 0 else ["--no-reconcile"])
        )
        for index in range(workers)
    ]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)
