"""Wiring: the relay's handlers from the settings, and the loops a relay process runs (the
worker, and reconciliation once a minute)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.crypto import PersonalDataCipher
from integrations.intake.client import IntakeApi
from integrations.sms import SmsGateway
from integrations.wechat import WeChatGateway
from portal.relay import reconcile
from portal.relay.handlers import INTAKE_TOPICS, IntakeHandler, SmsHandler, WeChatHandler
from portal.relay.worker import Handler, RelayOptions, RelayWorker
from portal.settings import Settings
from portal.web.metrics import Metrics

log = logging.getLogger(__name__)
RECONCILE_EVERY = 60.0


@dataclass
class Relay:
    worker: RelayWorker
    api: IntakeApi

    async def run(self, stop: asyncio.Event, *, reconciling: bool = True) -> None:
        loops = [self.worker.run(stop)]
        if reconciling:
            loops.append(self._reconcile_loop(stop))
        await asyncio.gather(*loops)

    async def _reconcile_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONCILE_EVERY)
            if stop.is_set():
                return
            try:
                await reconcile.reconcile(self.worker.sessionmaker, self.api)
            except Exception:
                log.exception("reconciliation failed; trying again in a minute")


def intake_api(settings: Settings) -> IntakeApi:
    return IntakeApi(
        settings.intake_api_url,
        settings.intake_token_endpoint,
        settings.intake_client_id,
        settings.intake_client_secret,
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
    handlers["notify.sms"] = SmsHandler(sms)
    handlers["notify.wechat"] = WeChatHandler(wechat)
    options = options or RelayOptions(lease=timedelta(seconds=settings.relay_lease_seconds))
    try:
        yield Relay(RelayWorker(sessionmaker, cipher, handlers, metrics, options), api)
    finally:
        await api.aclose()
        await sms.close()
