"""Applying on a phone: the new parents' 新生儿出生 and an agent's 开办餐饮店, with and
without JavaScript; the effort is counted and the figures checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.browser.flow import Person, png_bytes

pytestmark = pytest.mark.browser
NEWBORN_ANSWERS = {"settle_here": "yes", "maternity_paid": "no", "parenting": "yes"}


def _sign_in(page: Page, person: str, level: str) -> None:
    expect(page).to_have_url(re.compile(r".*/sandbox/idp/authorize.*"))
    page.check(f"#person-{person}")
    page.check(f"#level-{level}")
    page.click("button[value=allow]")


def _open(browser: Browser, phone: dict[str, Any], base: str, js: bool) -> Page:
    context = browser.new_context(**{**phone, "java_script_enabled": js})
    context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": base}])  # type: ignore[list-item]
    return context.new_page()


def _look(page: Page, path: Path) -> None:
    """What a person sees, kept as a screenshot; and what a screen reader finds, checked
    (axe needs JavaScript: the JS-off run renders the same markup)."""
    page.screenshot(path=str(path), full_page=True)
    if "nojs" in path.name:
        return
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _figures(page: Page) -> dict[str, int]:
    text = page.locator(".facts--figures").inner_text()
    total, filled = (int(n) for n in re.findall(r"\d+", text)[:2])
    return {"fields": total, "filled_for_you": filled}


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_new_parents_apply_for_a_newborn(
    browser: Browser,
    phone: dict[str, Any],
    live_url: str,
    screenshots: Path,
    tmp_path: Path,
    js: bool,
) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes())
    page = _open(browser, phone, live_url, js)
    person = Person(page, NEWBORN_ANSWERS)
    page.goto(live_url + "/things/newborn")
    person.tap(".apply-entry a")
    _sign_in(page, "li-na", "L3")
    expect(page).to_have_url(live_url + "/things/newborn/apply")
    person.tap("main form button[type=submit]")
    person.answer_questions()
    expect(page.locator("h1")).to_contain_text("这次一起办理")
    _look(page, screenshots / f"apply-result-{'js' if js else 'nojs'}.png")
    person.tap("main form button[type=submit]")
    _look(page, screenshots / f"apply-form-{'js' if js else 'nojs'}.png")
    person.fill_sections()
    expect(page).to_have_url(re.compile(r".*/materials$"))
    _look(page, screenshots / f"apply-materials-{'js' if js else 'nojs'}.png")
    person.provide_materials(image)
    expect(page).to_have_url(re.compile(r".*/check$"))
    person.tap("main button[type=submit].button--primary")
    expect(page.locator("h1")).to_have_text("申请已提交")
    _look(page, screenshots / f"apply-done-{'js' if js else 'nojs'}.png")
    figures = _figures(page)
    person.effort.save(f"newborn-{'js' if js else 'nojs'}", figures)
    # The portal's own count agrees with what the person had to type.
    assert figures["fields"] - figures["filled_for_you"] >= len(person.effort.typed) - 1
    assert figures["filled_for_you"] / figures["fields"] >= 0.5
    # The sandbox platform processes it; the page follows (htmx polling, or reloads).
    _until_concluded(page, js)
    _look(page, screenshots / f"progress-{'js' if js else 'nojs'}.png")
    if js:  # the same page right-to-left, and in 长辈版
        page.goto(page.url.split("?")[0] + "?lang=ug")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        _look(page, screenshots / "progress-ug.png")
        page.goto(page.url.split("?")[0] + "?lang=zh_Hans")
        page.click("header button:has-text('长辈版')")
        _look(page, screenshots / "progress-elder.png")
    page.context.close()


def _until_concluded(page: Page, js: bool) -> None:
    if js:
        expect(page.locator("#live")).to_contain_text("已办结", timeout=60_000)
        return
    for _ in range(120):
        if "已办结" in page.locator("#live").inner_text():
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError("the application did not conclude")


def test_an_agent_applies_to_open_a_restaurant(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path, tmp_path: Path
) -> None:
    from integrations.sandbox.people import person_by_sub

    image = tmp_path / "plan.png"
    image.write_bytes(png_bytes())
    # The legal representative authorises 吴磊 for this one-thing only.
    legal = _open(browser, phone, live_url, True)
    legal.goto(live_url + "/profile")
    _sign_in(legal, "sun-li", "L4")
    legal.click("main button:has-text('新乡市牧野区好味道餐饮有限公司')")
    legal.goto(live_url + "/enterprise/agents")
    legal.fill("#agent_name", "吴磊")
    legal.fill("#agent_id_number", person_by_sub("wu-lei").id_number)  # type: ignore[union-attr]
    legal.check("input[name=scope][value=chosen]")
    legal.check("input[name=thing_codes][value=restaurant]")
    legal.check("input[name=license_rights]")  # lends the enterprise's licenses
    legal.click("main form button.button--primary")
    expect(legal.locator("main")).to_contain_text("待经办人确认")
    legal.context.close()

    page = _open(browser, phone, live_url, True)
    person = Person(page, {"dine_in": "yes", "shop_sign": "yes"})
    page.goto(live_url + "/profile")
    _sign_in(page, "wu-lei", "L4")
    page.click("main button:has-text('接受授权')")
    page.click("main button:has-text('新乡市牧野区好味道餐饮有限公司')")
    expect(page.locator(".acting-banner")).to_contain_text("经办人")
    page.goto(live_url + "/things/restaurant/apply")
    person.tap("main form button[type=submit]")
    person.answer_questions()
    person.tap("main form button[type=submit]")
    person.fill_sections()
    person.provide_materials(image)
    expect(page).to_have_url(re.compile(r".*/check$"))  # the materials page has gone
    person.tap("main button[type=submit].button--primary")
    expect(page.locator("h1")).to_have_text("申请已提交")
    _look(page, screenshots / "apply-restaurant-agent.png")
    person.effort.save("restaurant-agent", _figures(page))
    page.context.close()
