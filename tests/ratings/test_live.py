"""The whole chain over real sockets: a newborn application concluded by the sandbox
platform, the invitation to rate (one text), a good rating of the whole and a bad one of a
sub-item relayed through the outbox, the platform's follow-up pushed back as signed
``rating.*`` webhooks, and the citizen's rating of the fix — the platform holds each once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from starlette.testclient import TestClient

from portal import clock
from portal.applications.models import Application
from portal.notifications.models import Notification
from portal.ratings import reconcile as rating_reconcile
from portal.ratings.models import Rating
from portal.relay.runner import relay_for
from portal.settings import Settings
from tests.conftest import csrf_token_from
from tests.integrations.helpers import mounted
from tests.ratings.helpers import ratings_of
from tests.relay.live import Live, application, apply_newborn, live_portal, sandbox_texts
from tests.relay.test_pipeline import wait_for


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_portal(settings, tmp_path_factory.mktemp("ratings-live")) as running:
        yield running


@pytest.fixture
def browser(live: Live) -> Iterator[TestClient]:
    with TestClient(live.app, base_url=live.url) as client:
        yield client


def _rate(browser: TestClient, path: str, data: dict[str, Any]) -> None:
    token = csrf_token_from(browser.get(path).text)
    answer = browser.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def _platform(live: Live) -> dict[str, Any]:
    store = mounted(live.sandbox, "/intake").state.store
    return {rating_id: record for (_, rating_id), record in list(store.ratings.items())}


def _texts(live: Live, public_id: str) -> list[str]:
    """The texts the sandbox gateway sent about this application. Only these: the relay also
    sends what earlier modules left queued in the shared test database (tests/security's
    applications conclude too, and their invitations to rate read the same)."""

    async def notification_ids() -> set[int]:
        async with live.sessionmaker() as db:
            found = await db.scalars(
                select(Notification.id)
                .join(Application, Application.id == Notification.application_id)
                .where(Application.public_id == public_id)
            )
            return set(found)

    mine = live.call(notification_ids)
    # The gateway's out_id is the outbox key, "ntf-<notification id>-<nonce>".
    return [m["text"] for m in sandbox_texts(live) if int(m["out_id"].split("-")[1]) in mine]


def test_rate_then_follow_a_bad_rating_to_the_rating_of_the_fix(
    live: Live, browser: TestClient
) -> None:
    live.control("ratings", {"follow_up": "planned", "period_days": 15})
    path = apply_newborn(browser)
    public_id = path.rsplit("/", 1)[1]

    def concluded() -> bool:
        found, items = live.call(lambda: application(live, public_id))
        return found.status == "concluded" and all(i.status == "delivered" for i in items)

    assert wait_for(concluded)
    invited = "欢迎登录对本次服务作出评价"
    assert wait_for(lambda: sum(invited in t for t in _texts(live, public_id)) == 1)
    page = browser.get(path).text
    assert f"{path}/rate" in page and f"{path}/items/birth_certificate/rate" in page

    _rate(browser, f"{path}/rate", {"level": "5", "indicators_good": "convenience"})
    item_path = f"{path}/items/birth_certificate/rate"
    _rate(browser, item_path, {"level": "1", "reasons": ["slow", "other"], "comment": "排队久"})

    def mine() -> dict[str, Rating]:
        rows = ratings_of(browser, live.app, public_id)
        return {r.item_key: r for r in rows}

    assert wait_for(lambda: all(r.relay_status == "relayed" for r in mine().values()))
    whole, bad = mine()[""], mine()["birth_certificate"]
    held = _platform(live)
    assert held[whole.public_id].level == "very_satisfied"
    assert held[whole.public_id].state == "received"  # a good rating is not followed up
    assert held[bad.public_id].reasons == ["slow", "other"]
    assert held[bad.public_id].rater["name"]  # real-name to the platform …
    assert "rater" not in held[bad.public_id].to_json()  # … never shown back

    rectified = wait_for(lambda: mine()["birth_certificate"].state == "rectified", timeout=60)
    held_now = _platform(live)[bad.public_id]
    assert rectified, (held_now.state, held_now.events, mine()["birth_certificate"].state)
    bad = mine()["birth_certificate"]
    kinds = [step["kind"] for step in bad.followup["events"]]
    assert kinds == ["verified", "rectification_planned", "rectified"]
    assert bad.followed_up_at and bad.rectified_at and bad.due_at
    page = browser.get(path).text
    assert "按期整改" in page and "已制定整改计划" in page
    assert wait_for(lambda: any("差评已整改完成" in t for t in _texts(live, public_id)))

    fix = f"{path}/ratings/{bad.public_id}/rectification"
    _rate(browser, fix, {"fix_level": "basically_satisfied"})
    assert wait_for(lambda: mine()["birth_certificate"].state == "closed")
    record = _platform(live)[bad.public_id]
    assert record.rectification_rating["level"] == "basically_satisfied"
    assert len([r for r in _platform(live).values() if r.application_id == public_id]) == 2
    # Rating again is refused by the portal before anything reaches the platform.
    token = csrf_token_from(browser.get(path).text)
    again = browser.post(
        item_path, data={"csrf_token": token, "level": "5"}, follow_redirects=False
    )
    assert again.headers["location"].endswith("done=already_rated")
    assert len([r for r in _platform(live).values() if r.application_id == public_id]) == 2


def test_a_rating_made_while_the_platform_is_down_arrives_once_when_it_is_back(
    live: Live, browser: TestClient
) -> None:
    path = apply_newborn(browser)
    public_id = path.rsplit("/", 1)[1]

    def concluded() -> bool:
        return live.call(lambda: application(live, public_id))[0].status == "concluded"

    assert wait_for(concluded)
    live.control("faults", {"outage": True})
    try:
        _rate(browser, f"{path}/rate", {"level": "3", "indicators_fair": "guide_accuracy"})
        [rating] = ratings_of(browser, live.app, public_id)
        assert ratings_of(browser, live.app, public_id)[0].relay_status == "pending"
        assert "正在送达政务服务平台" in browser.get(path).text
    finally:
        live.control("faults", {"outage": False})

    def relayed() -> bool:
        return ratings_of(browser, live.app, public_id)[0].relay_status == "relayed"

    assert wait_for(relayed, timeout=60)
    held = [r for r in _platform(live).values() if r.application_id == public_id]
    assert [(r.rating_id, r.level, r.indicators) for r in held] == [
        (rating.public_id, "basically_satisfied", ["guide_accuracy"])
    ]


def test_reconciliation_restores_a_follow_up_whose_webhooks_were_lost(
    live: Live, browser: TestClient
) -> None:
    live.control("ratings", {"follow_up": "explained"})
    path = apply_newborn(browser)
    public_id = path.rsplit("/", 1)[1]
    assert wait_for(
        lambda: live.call(lambda: application(live, public_id))[0].status == "concluded"
    )
    _rate(browser, f"{path}/rate", {"level": "2", "reasons": "guide_inaccurate"})

    def state() -> str:
        return ratings_of(browser, live.app, public_id)[0].state

    assert wait_for(lambda: state() == "explained", timeout=60)
    rating_id = ratings_of(browser, live.app, public_id)[0].id

    async def forget() -> list[int]:
        """As if every rating.* webhook had been lost, a day ago."""
        async with live.sessionmaker() as db:
            await db.execute(
                update(Rating)
                .where(Rating.id == rating_id)
                .values(
                    state="received",
                    sequence=0,
                    followup={},
                    followed_up_at=None,
                    heard_at=clock.now() - timedelta(days=2),
                )
            )
            await db.commit()
            return await rating_reconcile.stale(db, 1000)

    assert rating_id in live.call(forget)

    async def reconcile_now() -> int:
        async with relay_for(live.settings, live.sessionmaker, live.app.state.cipher) as relay:
            return await rating_reconcile.reconcile(
                live.sessionmaker, relay.api, [rating_id], rate=50
            )

    live.call(reconcile_now)  # (the relay's own minute loop may get there first)
    restored = ratings_of(browser, live.app, public_id)[0]
    assert restored.state == "explained" and restored.followed_up_at is not None
    assert [s["kind"] for s in restored.followup["events"]] == ["verified", "explained"]
    assert "已解释说明" in browser.get(path).text
    live.control("ratings", {"follow_up": "planned"})
