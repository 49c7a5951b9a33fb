"""Housekeeping beside the web server, every minute: bookings starting within two hours get
their one text message (queued in the outbox; the relay sends it), and places left in the
queue for hours end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from portal.assist import bookings, services

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


@contextlib.asynccontextmanager
async def reminders(app: Starlette, every: float = EVERY_SECONDS) -> AsyncIterator[None]:
    state = app.state
    names = {t.code: str(t.name.zh_Hans) for t in state.catalog.things()}

    async def loop() -> None:
        while True:
            try:
                async with state.sessionmaker() as db:
                    await bookings.send_reminders(db, state.cipher, names)
                    await services.expire_waiting(db)
            except Exception:  # a database hiccup must not end the loop
                log.exception("assist reminders failed")
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
