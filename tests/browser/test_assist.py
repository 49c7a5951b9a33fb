"""Remote assistance in two headless Chromium contexts on loopback, with fake camera and
microphone: citizen and assistant join, the peer connection reaches ``connected``, chat
crosses, a proposal is accepted into the draft, revoking consent cuts the assistant off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.flow import Person

pytestmark = pytest.mark.browser
NEWBORN_ANSWERS = {"settle_here": "yes", "maternity_paid": "no", "parenting": "yes"}
MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]


@pytest.fixture(scope="module")
def media_browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    browser.close()


def _context(browser: Browser, device: dict[str, Any], base: str) -> BrowserContext:
    context = browser.new_context(**device, permissions=["camera", "microphone"])
    context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": base}])  # type: ignore[list-item]
    return context


def _sign_in(page: Page, person: str) -> None:
    expect(page).to_have_url(re.compile(r".*/sandbox/idp/authorize.*"))
    page.check(f"#person-{person}")
    page.check("#level-L3")
    page.click("button[value=allow]")


def _shot(page: Page, path: Path) -> None:
    """Kept as a screenshot, and checked for what a screen reader finds."""
    page.screenshot(path=str(path), full_page=True)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_citizen_and_assistant_in_one_call(
    media_browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path
) -> None:
    desktop = {"viewport": {"width": 1280, "height": 900}}
    citizen = _context(media_browser, phone, live_url).new_page()
    assistant = _context(media_browser, desktop, live_url).new_page()

    # The citizen starts a draft, then asks for help with it from the check-free entry.
    person = Person(citizen, NEWBORN_ANSWERS)
    citizen.goto(live_url + "/things/newborn")
    citizen.click(".assist-entry a")
    _sign_in(citizen, "li-na")
    expect(citizen).to_have_url(re.compile(r".*/assist\?thing=newborn"))
    citizen.goto(live_url + "/things/newborn/apply")
    person.tap("main form button[type=submit]")
    person.answer_questions()
    draft = citizen.url.split("/drafts/")[1].split("/")[0]
    citizen.goto(f"{live_url}/assist?thing=newborn&draft={draft}")
    _shot(citizen, screenshots / "assist-start.png")
    citizen.click("text=选择预约时段")
    expect(citizen.locator("h1")).to_have_text("预约帮办")
    _shot(citizen, screenshots / "assist-book.png")
    citizen.go_back()
    citizen.click("form[action='/assist/ask'] button[type=submit]")
    expect(citizen.locator("#live")).to_contain_text(re.compile("您前面还有|下一位就是您"))
    _shot(citizen, screenshots / "assist-waiting.png")

    assistant.goto(live_url + "/assist/console")
    _sign_in(assistant, "zheng-hong")
    expect(assistant.locator("h1")).to_have_text("帮办工作台")
    _shot(assistant, screenshots / "assist-console.png")
    assistant.click("#take-next")
    expect(assistant).to_have_url(re.compile(r".*/assist/s/.+"))
    assert assistant.url == citizen.url  # the waiting page went into the call by itself

    for page in (citizen, assistant):
        expect(page.locator("#call-state")).to_have_attribute(
            "data-state", "connected", timeout=30_000
        )
        assert page.evaluate("window.assistPeer.connectionState") == "connected"

    assistant.fill("#chat-text", "您好，我是帮办员郑红")
    assistant.press("#chat-text", "Enter")
    expect(citizen.locator("#chat-log")).to_contain_text("您好，我是帮办员郑红")
    citizen.fill("#chat-text", "孩子的名字我不会填")
    citizen.click("#chat-form button[type=submit]")
    expect(assistant.locator("#chat-log")).to_contain_text("孩子的名字我不会填")

    expect(assistant.locator("#draft")).to_contain_text("群众还没有共享申请表")
    citizen.click("#share")
    expect(assistant.locator("#propose-field")).to_be_visible()
    assistant.select_option("#propose-field", "child_name")
    assistant.fill("#propose-value", "张小明")
    assistant.click("#propose")
    expect(citizen.locator("#proposals")).to_contain_text("张小明")
    _shot(citizen, screenshots / "assist-call-citizen.png")
    _shot(assistant, screenshots / "assist-call-assistant.png")
    citizen.click("#proposals button[value=accept]")
    expect(citizen.locator("#proposals")).to_contain_text("暂时没有建议")
    # In the draft now: the assistant's view of it is read from the draft itself.
    expect(assistant.locator("#draft .assist-fields")).to_contain_text("张小明")

    citizen.click("#revoke")
    expect(assistant.locator("#draft")).to_contain_text("群众还没有共享申请表")
    expect(assistant.locator("#draft .assist-fields")).to_have_count(0)
    assert citizen.evaluate("window.assistPeer.connectionState") == "connected"

    # The same page in Uyghur (right to left), in 长辈版 and at 360 px.
    citizen.set_viewport_size({"width": 360, "height": 780})
    citizen.goto(citizen.url.split("?")[0] + "?lang=ug")
    expect(citizen.locator("html")).to_have_attribute("dir", "rtl")
    _shot(citizen, screenshots / "assist-call-ug-360.png")
    citizen.goto(citizen.url.split("?")[0] + "?lang=zh_Hans")
    citizen.click("header button:has-text('长辈版')")
    _shot(citizen, screenshots / "assist-call-elder.png")
    citizen.click("header button:has-text('标准版')")

    assistant.check("#outcome-helped")
    assistant.fill("#end-summary", "帮您填好了孩子的姓名")
    assistant.click("#notes button.button--danger")
    expect(citizen.locator(".assist-summary")).to_contain_text("帮您填好了孩子的姓名")
    _shot(citizen, screenshots / "assist-summary.png")
    citizen.context.close()
    assistant.context.close()


REFUSE_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_refused_camera_falls_back_to_chat_and_callback(
    media_browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path
) -> None:
    """The citizen refuses camera and microphone: the page says so, chat still works, and a
    phone callback can be requested, which the assistant sees at once. Without JavaScript
    the assistant still chats through the form."""
    citizen_context = _context(media_browser, phone, live_url)
    citizen_context.add_init_script(REFUSE_MEDIA)
    citizen = citizen_context.new_page()
    assistant_context = media_browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    assistant_context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": live_url}])  # type: ignore[list-item]
    assistant = assistant_context.new_page()

    citizen.goto(live_url + "/assist?thing=retirement")
    _sign_in(citizen, "wang-jianguo")
    citizen.click("form[action='/assist/ask'] button[type=submit]")
    expect(citizen.locator("#live")).to_be_visible()
    assistant.goto(live_url + "/assist/console")
    _sign_in(assistant, "huang-tao")
    assistant.click("#take-next")
    expect(citizen.locator("#media-fallback")).to_be_visible(timeout=15_000)
    citizen.click("text=请帮办员给我回电话")
    expect(citizen.locator("main")).to_contain_text("已请求回电")
    assistant.reload()
    expect(assistant.locator("#notes")).to_contain_text("群众请求回电")
    assistant.fill("#chat-text", "我马上给您打电话")
    assistant.click("#chat-form button[type=submit]")
    expect(citizen.locator("#chat-log")).to_contain_text("我马上给您打电话")
    _shot(citizen, screenshots / "assist-fallback.png")
    assistant.check("#outcome-callback")
    assistant.click("#notes button.button--danger")
    expect(citizen.locator(".assist-summary")).to_contain_text("改为电话回访")
    citizen.context.close()
    assistant.context.close()
