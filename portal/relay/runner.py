"""Wiring: the relay's handlers from the settings, and the loops a relay process runs (the
worker, reconciliation once a minute, and the periodic chores)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.crypto import PersonalDataCipher
from integrations.intake.client import IntakeApi
from integrations.sms import SmsGateway
from integrations.wechat import WeChatGateway
from portal.db_errors import database_unavailable
from portal.ratings import reconcile as rating_reconcile
from portal.ratings.relay import TOPICS as RATING_TOPICS
from portal.ratings.relay import RatingHandler
from portal.relay import reconcile
from portal.relay.handlers import INTAKE_TOPICS, IntakeHandler, SmsHandler, WeChatHandler
from portal.relay.worker import Handler, RelayOptions, RelayWorker
from portal.settings import Settings
from portal.web.metrics import Metrics

log = logging.getLogger(__name__)
RECONCILE_EVERY = 60.0
ASSIST_EVERY = 60.0  # bookings are reminded two hours ahead; a minute late is fine


@dataclass(frozen=True)
class Chore:
    """Housekeeping the reconciling relay process runs every ``every`` seconds: the wallet's
    expiry reminders, the assist booking reminders. Each is idempotent, should several
    processes reconcile, and returns how many outbox rows it queued."""

    name: str
    run: Callable[[], Awaitable[int]]
    every: float


@dataclass
class Relay:
    worker: RelayWorker
    api: IntakeApi
    chores: list[Chore] = field(default_factory=list)

    async def run(self, stop: asyncio.Event, *, reconciling: bool = True) -> None:
        loops = [self.worker.run(stop)]
        if reconciling:
            loops.append(self._reconcile_loop(stop))
            loops.extend(self._chore_loop(stop, chore) for chore in self.chores)
        await asyncio.gather(*loops)

    async def _chore_loop(self, stop: asyncio.Event, chore: Chore) -> None:
        while not stop.is_set():
            try:
                if await chore.run():
                    self.worker.wake()
            except Exception as exc:  # a database hiccup must not end the loop
                if database_unavailable(exc):
                    log.warning("%s: database unavailable; trying again later", chore.name)
                else:
                    log.exception("%s failed; trying again later", chore.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), chore.every)

    async def _reconcile_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONCILE_EVERY)
            if stop.is_set():
                return
            try:
                await reconcile.reconcile(self.worker.sessionmaker, self.api)
                await rating_reconcile.reconcile(self.worker.sessionmaker, self.api)
            except Exception as exc:
                if database_unavailable(exc):
                    log.warning("reconciliation: database unavailable; trying again in a minute")
                else:
                    log.exception("reconciliation failed; trying again in a minute")


def intake_api(settings: Settings) -> IntakeApi:
    return IntakeApi(
        settings.intake_api_url,
        settings.intake_token_endpoint,
        settings.intake_client_id,
        settings.intake_client_secret,
        timeout=settings.intake_timeout_seconds,
    )


@contextlib.asynccontextmanager
async def relay_for(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    metrics: Metrics | None = None,
    options: RelayOptions | None = None,
) -> AsyncIterator[Relay]:
    api = intake_api(settings)
    sms = SmsGateway(settings.sms_api_url, settings.integrations_api_key)
    wechat = WeChatGateway(
        settings.wechat_api_url,
        settings.wechat_appid,
        settings.wechat_secret,
        redis_url=settings.redis_url,
    )
    intake = IntakeHandler(api)
    handlers: dict[str, Handler] = {topic: intake for topic in INTAKE_TOPICS}
    handlers |= dict.fromkeys(RATING_TOPICS, RatingHandler(api))
    handlers["notify.sms"] = SmsHandler(sms)
    handlers["notify.wechat"] = WeChatHandler(wechat)
    options = options or RelayOptions(lease=timedelta(seconds=settings.relay_lease_seconds))
    worker = RelayWorker(sessionmaker, cipher, handlers, metrics, options)
    try:
        yield Relay(worker, api, chores(settings, sessionmaker, cipher))
    finally:
        await api.aclose()
        await sms.close()


def chores(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> list[Chore]:
    from portal.assist import bookings
    from portal.assist import services as assist
    from portal.catalog.loader import load_catalog
    from portal.wallet import reminders, services, verification

    catalog = load_catalog(settings.catalog_dir)
    renewals = services.renewals(catalog)
    thing_names = {thing.code: str(thing.name.zh_Hans) for thing in catalog.things.values()}

    async def wallet_reminders() -> int:
        async with sessionmaker() as db:
            await verification.prune(db)
            await db.commit()
        library = services.library(settings)
        return await reminders.sweep(sessionmaker, cipher, library, services.today(), renewals)

    async def assist_housekeeping() -> int:
        async with sessionmaker() as db:
            queued = await bookings.send_reminders(db, cipher, thing_names)
            await assist.expire_waiting(db)
        return queued

    return [
        Chore("wallet reminders", wallet_reminders, settings.wallet_reminder_minutes * 60.0),
        Chore("assist reminders", assist_housekeeping, ASSIST_EVERY),
    ]
