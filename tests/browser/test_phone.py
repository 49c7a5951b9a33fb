"""The portal as a person sees it on a phone: screenshots, accessibility (axe-core), RTL,
elder mode, 360-px width, JavaScript off, and htmx making search live."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

PAGES = {"home": "/", "search": "/search?q=xsecs", "guide": "/things/newborn"}
MODES = {"zh_Hans": ("zh_Hans", False), "ug": ("ug", False), "elder": ("zh_Hans", True)}


def _open(
    browser: Browser, phone: dict[str, Any], base: str, locale: str, elder: bool, **extra: Any
) -> Page:
    context = browser.new_context(**{**phone, **extra})
    cookies = [{"name": "lang", "value": locale, "url": base}]
    if elder:
        cookies.append({"name": "elder", "value": "1", "url": base})
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context.new_page()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("page_name", PAGES)
def test_screenshot_and_axe(
    browser: Browser,
    phone: dict[str, Any],
    live_url: str,
    screenshots: Path,
    page_name: str,
    mode: str,
) -> None:
    locale, elder = MODES[mode]
    page = _open(browser, phone, live_url, locale, elder)
    page.goto(live_url + PAGES[page_name])
    assert page.evaluate("document.documentElement.dir") == ("rtl" if locale == "ug" else "ltr")
    page.screenshot(path=str(screenshots / f"{page_name}-{mode}.png"), full_page=True)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    page.context.close()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "path",
    [*PAGES.values(), "/effects", "/things/newborn?view=full", "/things/newborn/apply", "/nope"],
)
def test_nothing_overflows_a_360px_phone(
    browser: Browser, phone: dict[str, Any], live_url: str, path: str, mode: str
) -> None:
    locale, elder = MODES[mode]
    page = _open(browser, phone, live_url, locale, elder, viewport={"width": 360, "height": 740})
    page.goto(live_url + path)
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 360, f"{path} is {width}px wide"
    page.context.close()


def test_rtl_mirrors_the_header(browser: Browser, phone: dict[str, Any], live_url: str) -> None:
    page = _open(browser, phone, live_url, "ug", False)
    page.goto(live_url + "/")
    brand = page.locator(".brand").bounding_box()
    tools = page.locator(".site-header__tools").bounding_box()
    assert brand and tools and brand["x"] > tools["x"], "brand should sit on the right in RTL"
    page.context.close()


def test_elder_mode_sizes(browser: Browser, phone: dict[str, Any], live_url: str) -> None:
    page = _open(browser, phone, live_url, "zh_Hans", True)
    page.goto(live_url + "/things/newborn")
    px = "(s) => parseFloat(getComputedStyle(document.querySelector(s)).{})"
    assert page.evaluate(px.format("fontSize"), "body") >= 22
    assert page.evaluate(px.format("fontSize"), "h1") >= 30
    assert page.evaluate(px.format("fontSize"), "h2") >= 30
    assert (
        page.evaluate(px.format("lineHeight"), "p") / page.evaluate(px.format("fontSize"), "p")
        >= 1.3
    )
    for selector in [".elder-switch button", ".apply-entry a", ".lang-switch summary"]:
        box = page.locator(selector).bounding_box()
        assert box and box["height"] >= 60 and box["width"] >= 60, selector
    page.context.close()


def test_everything_works_with_javascript_off(
    browser: Browser, phone: dict[str, Any], live_url: str
) -> None:
    page = _open(browser, phone, live_url, "zh_Hans", False, java_script_enabled=False)
    page.goto(live_url + "/")
    page.fill("#q", "xsecs")
    page.click(".search-form button[type=submit]")
    expect(page).to_have_url(f"{live_url}/search?q=xsecs&audience=person")
    page.click("text=新生儿出生“一件事”")
    expect(page.locator("h1")).to_have_text("新生儿出生“一件事”")
    page.click(".elder-switch button")  # a CSRF-protected POST, then back here
    expect(page).to_have_url(f"{live_url}/things/newborn")
    assert "elder" in (page.locator("html").get_attribute("class") or "")
    page.click(".lang-switch summary")  # the language menu is a <details>: no script needed
    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.context.close()


def test_search_results_appear_as_you_type(
    browser: Browser, phone: dict[str, Any], live_url: str
) -> None:
    page = _open(browser, phone, live_url, "zh_Hans", False)
    page.goto(live_url + "/")
    page.locator("#q").press_sequentially("xsecs", delay=30)
    expect(page.locator("#search-results .card__title").first).to_have_text("新生儿出生“一件事”")
    assert page.url == live_url + "/"
    page.context.close()


def test_font_scale_from_the_mini_program(
    browser: Browser, phone: dict[str, Any], live_url: str
) -> None:
    page = _open(browser, phone, live_url, "zh_Hans", False)
    page.goto(live_url + "/?font_scale=1.4")
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 22
    page.context.close()


@pytest.mark.parametrize("mode", MODES)
def test_sign_in_and_profile(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path, mode: str
) -> None:
    locale, elder = MODES[mode]
    page = _open(browser, phone, live_url, locale, elder)
    page.goto(live_url + "/profile")
    assert "/sandbox/idp/authorize" in page.url  # sent to the identity provider
    page.check("#person-li-na")
    page.check("#level-L3")
    page.click("button[value=allow]")
    expect(page).to_have_url(live_url + "/profile")
    assert page.locator("h1").inner_text() != ""
    page.screenshot(path=str(screenshots / f"profile-{mode}.png"), full_page=True)
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= phone["viewport"]["width"]
    page.click(".logout button")
    expect(page).to_have_url(re.compile(re.escape(live_url) + r"/auth/logged-out(\?state=.+)?$"))
    expect(page.locator("h1")).to_have_text(re.compile("已退出登录|چىقىپ بولدىڭىز"))
    page.context.close()
