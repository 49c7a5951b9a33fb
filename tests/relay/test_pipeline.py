"""Submit → relayed → every item processed by the sandbox platform → results → delivered,
with the webhooks, the e-licenses and the text messages, all over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx2
import pytest
from starlette.testclient import TestClient

from portal.settings import Settings
from tests.relay.live import Live, application, apply_newborn, live_portal


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
        found, _ = live.call(lambda: application(live, public_id))
        return found.status == "concluded"

    assert wait_for(concluded), live.call(lambda: application(live, public_id))[0].platform
    found, items = live.call(lambda: application(live, public_id))
    assert found.relay_status == "relayed" and found.receipt_number
    assert {i.status for i in items} == {"delivered"}
    assert all(i.sequence >= 4 for i in items)  # accepted, approved, result, delivered

    page = browser.get(path).text
    assert "已办结" in page and found.receipt_number in page
    assert "综合窗口已收件" in page and "已出结果" in page

    messages = httpx2.get(
        f"{live.sandbox_url}/sms/api/v1/messages",
        headers={"authorization": "Bearer sandbox-api-key"},
        timeout=10,
    ).json()
    texts = (
        [m["text"] for m in messages["messages"]]
        if isinstance(messages, dict)
        else [m["text"] for m in messages]
    )
    assert any(found.receipt_number in text for text in texts)
    assert "已发送" in page  # the notification log on the application


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
