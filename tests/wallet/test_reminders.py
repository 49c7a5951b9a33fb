"""Expiry reminders: at 30 and at 7 days, once each, however many sweeps run at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import Person, WeChatBinding
from integrations.licenses import LicenseLibrary
from portal import clock
from portal.applications.models import OutboxMessage
from portal.notifications.models import Notification
from portal.relay.runner import chores
from portal.settings import Settings
from portal.wallet import reminders, services
from portal.wallet.models import ExpiryReminder
from tests.auth.helpers import sign_in

FOOD = "lic-haoweidao-food-business-license"


async def _sun_li(db: Any) -> int:
    found = await db.scalar(select(Person.id).where(Person.subject == "sun-li"))
    assert found is not None
    return int(found)


def test_thresholds() -> None:
    assert [reminders.threshold(d) for d in (31, 30, 8, 7, 1, 0, -1)] == [
        None, 30, 30, 7, 7, 7, None,
    ]  # fmt: skip


def test_reminders_go_out_once_at_30_and_once_at_7_days(
    client: TestClient, app: Starlette, settings: Settings
) -> None:
    sign_in(client, "sun-li", "L4")  # the legal representative is told
    library = LicenseLibrary(settings.licenses_api_url, settings.integrations_api_key)
    # A license of its own: other tests' relays may have reminded of the demo one already.
    demo = asyncio.run(library.get(FOOD))
    food = asyncio.run(
        library.issue(
            demo.type,
            demo.holder,
            {**demo.data, "valid_until": (services.today() + timedelta(days=60)).isoformat()},
            valid_until=services.today() + timedelta(days=60),
        )
    )
    assert food.valid_until is not None
    renewals = services.renewals(app.state.catalog.catalog)

    async def sweep(day_offset: int, times: int = 1) -> None:
        day = food.valid_until - timedelta(days=day_offset)  # type: ignore[operator]
        await asyncio.gather(
            *(
                reminders.sweep(app.state.sessionmaker, app.state.cipher, library, day, renewals)
                for _ in range(times)
            )
        )

    async def sent() -> list[tuple[int, int]]:
        async with app.state.sessionmaker() as db:
            rows = await db.execute(
                select(ExpiryReminder.days, func.count())
                .where(
                    ExpiryReminder.identifier == food.identifier,
                    ExpiryReminder.person_id == await _sun_li(db),
                )
                .group_by(ExpiryReminder.days)
                .order_by(ExpiryReminder.days)
            )
            return [(int(d), int(n)) for d, n in rows.all()]

    async def notices() -> list[Notification]:
        async with app.state.sessionmaker() as db:
            rows = await db.scalars(
                select(Notification).where(Notification.event == "wallet.license_expiring")
            )
            sun_li = await _sun_li(db)
            wanted = food.valid_until.isoformat()  # type: ignore[union-attr]
            return [n for n in rows if n.params.get("date") == wanted and n.person_id == sun_li]

    call = client.portal.call  # type: ignore[union-attr]

    async def bind_wechat() -> None:
        async with app.state.sessionmaker() as db:
            person_id = await _sun_li(db)
            exists = await db.scalar(
                select(WeChatBinding.id).where(WeChatBinding.person_id == person_id)
            )
            if exists is None:
                db.add(
                    WeChatBinding(
                        person_id=person_id,
                        appid="wx5a1b2c3d4e5f6a7b",
                        openid="o-wallet-test-sun-li-0000000",
                        level="L3",
                        created_at=clock.now(),
                    )
                )
                await db.commit()

    call(bind_wechat)
    call(sweep, 40)
    assert call(sent) == []
    call(sweep, 18, 3)  # three sweeps at once, as several relay processes might
    assert call(sent) == [(30, 1)]
    call(sweep, 12)
    assert call(sent) == [(30, 1)]
    call(sweep, 7, 2)
    call(sweep, 5)
    assert call(sent) == [(7, 1), (30, 1)]
    found = call(notices)
    assert sorted(n.channel for n in found) == ["sms", "sms", "wechat", "wechat"]
    assert found[0].template == "YJS_LICENSE_EXPIRING"
    assert found[0].params["license"] == "食品经营许可证"
    assert found[0].params["link"] == "/things/restaurant"

    async def queued() -> int:
        async with app.state.sessionmaker() as db:
            ids = [n.id for n in await notices()]
            total = 0
            for message in await db.scalars(
                select(OutboxMessage).where(OutboxMessage.topic == "notify.sms")
            ):
                total += any(message.idempotency_key.startswith(f"ntf-{i}-") for i in ids)
            return total

    assert call(queued) == 2  # and two WeChat subscribe messages, under notify.wechat


def test_the_relay_chores_are_wired_from_the_settings(
    client: TestClient, app: Starlette, settings: Settings
) -> None:
    found = chores(settings, app.state.sessionmaker, app.state.cipher)
    assert [chore.name for chore in found] == ["wallet reminders", "assist reminders"]
    assert found[0].every == settings.wallet_reminder_minutes * 60.0
    for chore in found:
        assert client.portal.call(chore.run) >= 0  # type: ignore[union-attr]
