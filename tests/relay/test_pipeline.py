"""Submit → relayed → every item processed by the sandbox platform → results → delivered,
with the webhooks, the e-licenses and the text messages, all over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from portal import clock
from portal.applications.models import Application, ApplicationEvent, ApplicationItem
from portal.relay import reconcile
from portal.relay.runner import relay_for
from portal.settings import Settings
from tests.applications.formdata import form_values, photo
from tests.conftest import csrf_token_from
from tests.relay.live import Live, application, apply_newborn, live_portal, sandbox_texts


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_portal(settings, tmp_path_factory.mktemp("live")) as running:
        yield running


@pytest.fixture
def browser(live: Live) -> Iterator[TestClient]:
    with TestClient(live.app, base_url=live.url) as client:
        yield client


def wait_for(check, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_a_newborn_application_goes_all_the_way_to_delivery(
    live: Live, browser: TestClient
) -> None:
    path = apply_newborn(browser)
    public_id = path.rsplit("/", 1)[1]

    def concluded() -> bool:
        # Webhooks come in any order: the last delivery may land just after "concluded".
        found, items = live.call(lambda: application(live, public_id))
        return found.status == "concluded" and all(i.status == "delivered" for i in items)

    assert wait_for(concluded), live.call(lambda: application(live, public_id))[0].platform
    found, items = live.call(lambda: application(live, public_id))
    assert found.relay_status == "relayed" and found.receipt_number
    assert {i.status for i in items} == {"delivered"}
    assert all(i.sequence >= 4 for i in items)  # accepted, approved, result, delivered

    def texts() -> list[str]:
        return [m["text"] for m in sandbox_texts(live)]

    def page_when_told() -> str | None:
        # The states converge by sequence, but the timeline shows each webhook as it comes and
        # the texts go out through the outbox: on a busy machine "received" can land after the
        # last delivery, and the text with the receipt number after both.
        page = browser.get(path).text
        told = any(found.receipt_number in text for text in texts())
        history = "综合窗口已收件" in page and "已出结果" in page and "已发送" in page
        return page if told and history else None

    page = wait_for(page_when_told)
    wanted = ("综合窗口已收件", "已出结果", "已发送", found.receipt_number)
    assert page, (texts(), [w for w in wanted if w not in browser.get(path).text])
    assert "已办结" in page and found.receipt_number in page


def test_the_anonymous_lookup_needs_the_right_id_tail(live: Live, browser: TestClient) -> None:
    path = apply_newborn(browser)
    found, _ = live.call(lambda: application(live, path.rsplit("/", 1)[1]))
    with TestClient(live.app, base_url=live.url) as stranger:
        page = stranger.get("/track").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        wrong = stranger.post(
            "/track",
            data={"csrf_token": token, "number": found.submission_number, "tail": "000000"},
        )
        assert wrong.status_code == 404 and "没有找到" in wrong.text
        right = stranger.post(
            "/track",
            data={"csrf_token": token, "number": found.submission_number, "tail": "270425"},
        )
        assert right.status_code == 200 and "各事项进度" in right.text
        assert "410702" not in right.text  # no personal data on the anonymous page


LI_NA = "410702199408270425"


def _status(live: Live, public_id: str) -> str:
    return live.call(lambda: application(live, public_id))[0].status


def test_a_supplement_notice_is_answered_once_in_the_portal(
    live: Live, browser: TestClient
) -> None:
    live.control("scenarios", {"id_number": LI_NA, "scenario": "supplement_intake"})
    try:
        path = apply_newborn(browser)
        public_id = path.rsplit("/", 1)[1]
        # The platform picks the scenario when the relay hands the application over.
        assert wait_for(lambda: _status(live, public_id) == "supplement_requested")
    finally:
        live.control("scenarios", {"id_number": LI_NA, "scenario": "approve"})
    page = browser.get(path).text
    assert "需要补正" in page and "去补正" in page

    form_page = browser.get(f"{path}/supplement")
    assert form_page.status_code == 200
    fields = {
        k: v for k, v in form_values(form_page.text).items() if k.startswith(("f.", "_shown"))
    }
    token = csrf_token_from(form_page.text)
    empty = browser.post(f"{path}/supplement", data={"csrf_token": token}, follow_redirects=False)
    assert empty.status_code == 400  # every listed material must come: nothing sent yet
    materials = re.findall(r'name="m\.(\w+)\.files"', form_page.text)
    files = [(f"m.{key}.files", ("fix.jpg", photo(), "image/jpeg")) for key in materials]
    sent = browser.post(
        f"{path}/supplement",
        data={**fields, "csrf_token": token, "note": "已更正"},
        files=files,
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert wait_for(lambda: _status(live, public_id) == "concluded")
    assert "您提交了补正" in browser.get(path).text


def test_withdrawing_before_a_decision(live: Live, browser: TestClient) -> None:
    live.control("speed", {"seconds_per_working_day": 120})
    try:
        path = apply_newborn(browser)
        public_id = path.rsplit("/", 1)[1]
        assert wait_for(lambda: _status(live, public_id) == "under_review")
        page = browser.get(f"{path}/withdraw")
        token = csrf_token_from(page.text)
        keys = re.findall(r'name="items" value="(\w+)"', page.text)
        no_reason = browser.post(
            f"{path}/withdraw", data={"csrf_token": token, "items": keys}, follow_redirects=False
        )
        assert no_reason.status_code == 400 and "请填写撤回原因" in no_reason.text
        done = browser.post(
            f"{path}/withdraw",
            data={"csrf_token": token, "items": keys, "reason": "孩子改在外地落户"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert wait_for(lambda: _status(live, public_id) == "withdrawn")
        assert "撤回已生效" in browser.get(path).text
    finally:
        live.control("speed", {"seconds_per_working_day": 0.02})


def test_reconciliation_repairs_a_state_that_missed_its_webhooks(
    live: Live, browser: TestClient
) -> None:
    path = apply_newborn(browser)
    public_id = path.rsplit("/", 1)[1]
    assert wait_for(lambda: _status(live, public_id) == "concluded")
    # Every webhook delivered, retries included: none may land after the state is forgotten.
    assert wait_for(lambda: live.stats()["webhooks"]["pending"] == 0)

    async def forget() -> int:
        """As if every webhook had been lost: back to the state of the submission answer."""
        async with live.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            found.status, found.sequence = "under_review", 0
            found.updated_at = clock.now() - timedelta(days=2)
            await db.execute(
                update(ApplicationItem)
                .where(ApplicationItem.application_id == found.id)
                .values(status="submitted", sequence=0)
            )
            await db.commit()
            return found.id

    application_id = live.call(forget)

    async def stale_now() -> list[int]:
        async with live.sessionmaker() as db:
            return await reconcile.stale(db, 1000)

    assert application_id in live.call(stale_now)

    async def reconcile_now() -> int:
        async with relay_for(live.settings, live.sessionmaker, live.app.state.cipher) as r:
            return await reconcile.reconcile(live.sessionmaker, r.api, [application_id], rate=50)

    live.call(reconcile_now)  # (the relay's own minute loop may have got there first)
    found, items = live.call(lambda: application(live, public_id))
    assert found.id == application_id and found.status == "concluded"
    assert {i.status for i in items} == {"delivered"}

    async def reconciled() -> int:
        async with live.sessionmaker() as db:
            count = await db.scalar(
                select(func.count())
                .select_from(ApplicationEvent)
                .where(
                    ApplicationEvent.application_id == application_id,
                    ApplicationEvent.kind == "portal.reconciled",
                )
            )
            return int(count or 0)

    assert live.call(reconciled) == 1


def test_metrics_count_relay_attempts_and_webhooks(live: Live) -> None:
    text = httpx2.get(f"{live.url}/metrics", timeout=10).text
    assert 'portal_relay_attempts_total{outcome="sent",topic="intake.submit"}' in text
    assert 'portal_webhooks_total{outcome="applied"}' in text
    assert "portal_outbox_pending" in text and "portal_outbox_oldest_age_seconds" in text
