"""The wallet on a phone: the new parents' one-thing completes in the sandbox and the
child's licenses appear in the mother's wallet without her doing anything; the card view
(亮证) in zh_Hans, ug (RTL), 长辈版 and on a 360-px screen; a scan verifies it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.flow import Person, png_bytes
from tests.browser.test_apply import NEWBORN_ANSWERS, _look, _open, _sign_in, _until_concluded

pytestmark = pytest.mark.browser
CHILD_RESULTS = ("出生医学证明", "居民户口簿", "社会保障卡")


def test_the_childs_licenses_reach_the_wallet_and_verify(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path, tmp_path: Path
) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes())
    page = _open(browser, phone, live_url, True)
    person = Person(page, NEWBORN_ANSWERS)
    page.goto(live_url + "/things/newborn/apply")
    _sign_in(page, "li-na", "L3")
    person.tap("main form button[type=submit]")
    person.answer_questions()
    person.tap("main form button[type=submit]")
    person.fill_sections()
    person.provide_materials(image)
    person.tap("main button[type=submit].button--primary")
    expect(page.locator("h1")).to_have_text("申请已提交")
    _until_concluded(page, js=True)

    page.goto(live_url + "/wallet")
    guardian = page.locator("li.license", has_text="您是监护人")
    for name in CHILD_RESULTS:
        expect(guardian.filter(has_text=name).first).to_be_visible()
    _look(page, screenshots / "wallet-list.png")

    guardian.filter(has_text="社会保障卡").first.locator("a").click()
    expect(page.locator("h1")).to_have_text("社会保障卡")
    expect(page.locator("#qr svg")).to_be_visible()
    clock = page.locator("[data-live-clock]")
    before = clock.inner_text()
    page.wait_for_timeout(1500)
    assert clock.inner_text() != before  # a live clock, not a picture of one
    _look(page, screenshots / "wallet-card-zh_Hans.png")
    card_url = page.url.split("?")[0].split("#")[0]
    verify_url = page.locator("#qr svg title").text_content() or ""
    assert re.match(re.escape(live_url) + r"/verify/[\w.-]+$", verify_url)

    scanner = _open(browser, phone, live_url, True)  # another phone, not signed in
    scanner.goto(verify_url)
    expect(scanner.locator(".verdict")).to_contain_text("证照真实有效")
    _look(scanner, screenshots / "wallet-verify.png")
    scanner.context.close()

    page.goto(card_url + "?lang=ug")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#qr svg")).to_be_visible()
    _look(page, screenshots / "wallet-card-ug.png")
    page.goto(card_url + "?lang=zh_Hans")
    page.click("header button:has-text('长辈版')")
    _look(page, screenshots / "wallet-card-elder.png")
    page.click("header button:has-text('标准版')")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(card_url)
    _look(page, screenshots / "wallet-card-360.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the card page scrolls sideways ({width} px)"
    page.context.close()


def test_the_card_works_without_javascript(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path
) -> None:
    page = _open(browser, phone, live_url, False)
    page.goto(live_url + "/wallet")
    _sign_in(page, "zhang-wei", "L3")
    page.locator("li.license", has_text="结婚证").locator("a").click()
    expect(page.locator("#qr svg")).to_be_visible()
    first = page.locator("#qr svg title").text_content() or ""
    page.click("#qr a:has-text('刷新核验码')")  # the link htmx would have spared
    expect(page.locator("#qr svg title")).not_to_have_text(first)
    _look(page, screenshots / "wallet-card-nojs.png")
    page.context.close()


def test_a_bank_is_granted_use_and_the_holder_sees_the_log(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path
) -> None:
    page = _open(browser, phone, live_url, True)
    page.goto(live_url + "/wallet/licenses/lic-zhang-wei-real-estate-certificate")
    _sign_in(page, "zhang-wei", "L3")
    page.click("main a:has-text('授权单位使用')")
    page.fill("#org_name", "中国工商银行新乡分行")
    page.fill("#org_uscc", "91410700MA45RT3K8B")  # a wrong check character
    page.fill("#reason", "办理住房贷款")
    page.click("main form button.button--primary")
    expect(page.locator(".error-summary")).to_contain_text("校验位对不上")
    expect(page.locator("#reason")).to_have_value("办理住房贷款")  # nothing typed is lost
    _look(page, screenshots / "wallet-grant-error.png")
    page.fill("#org_uscc", "91410700MA45RT3K8A")
    page.click("main form button.button--primary")
    expect(page.locator("h1")).to_have_text("中国工商银行新乡分行")
    _look(page, screenshots / "wallet-grant.png")
    link = page.locator(".qr__url a").inner_text()

    bank = _open(browser, phone, live_url, True)
    bank.goto(link)
    expect(bank.locator("main")).to_contain_text("办理住房贷款")
    _look(bank, screenshots / "wallet-use.png")
    picture = bank.request.get(link + "/0/copy.png")
    assert picture.ok and picture.headers["content-type"] == "image/png"

    page.click("main button:has-text('立即撤销授权')")
    expect(page.locator("main")).to_contain_text("已撤销")
    bank.reload()
    expect(bank.locator("main")).to_contain_text("已撤销这项授权")
    bank.context.close()

    page.goto(live_url + "/wallet/log?lang=ug")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".usage-log")).to_contain_text("中国工商银行新乡分行")
    _look(page, screenshots / "wallet-log-ug.png")
    page.context.close()
