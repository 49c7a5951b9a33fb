"""好差评 on a phone: rate a completed demo application, then give a sub-item a bad rating
(refused without a reason, nothing typed lost), follow its follow-up pushed by the sandbox
platform, and rate the fix; the public figures in zh_Hans, ug (RTL), elder mode and 360 px.
Every page is checked with axe-core and kept as a screenshot."""

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


def _look(page: Page, path: Path, *, axe: bool = True) -> None:
    page.screenshot(path=str(path), full_page=True)
    if axe:
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()


def _until(page: Page, text: str, tries: int = 240) -> None:
    for _ in range(tries):
        if text in page.locator("main").inner_text():
            return
        page.wait_for_timeout(500)
        page.reload()
    raise AssertionError(f"{text!r} never appeared on {page.url}")


def _apply(page: Page, live_url: str, image: Path) -> str:
    person = Person(page, NEWBORN_ANSWERS)
    page.goto(live_url + "/things/newborn")
    person.tap(".apply-entry a")
    expect(page).to_have_url(re.compile(r".*/sandbox/idp/authorize.*"))
    page.check("#person-li-na")
    page.check("#level-L3")
    page.click("button[value=allow]")
    person.tap("main form button[type=submit]")
    person.answer_questions()
    person.tap("main form button[type=submit]")
    person.fill_sections()
    person.provide_materials(image)
    person.tap("main button[type=submit].button--primary")
    expect(page.locator("h1")).to_have_text("申请已提交")
    return page.url.split("?")[0]


def test_rate_a_completed_application_and_follow_a_bad_rating_to_the_fix(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path, tmp_path: Path
) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes())
    context = browser.new_context(**{**phone, "java_script_enabled": False})
    context.add_cookies([{"name": "lang", "value": "zh_Hans", "url": live_url}])  # type: ignore[list-item]
    page = context.new_page()
    application = _apply(page, live_url, image)
    page.goto(application)
    _until(page, "已办结")
    _look(page, screenshots / "ratings-invited.png", axe=False)

    # The whole application: 非常满意, one thing done well.
    page.locator(f"main a[href='{application.removeprefix(live_url)}/rate']").click()
    expect(page.locator("h1")).to_have_text("评价这次服务")
    expect(page.locator("main p").first).not_to_contain_text("《")  # the whole, not an item
    assert page.locator("input[name=level]:checked").count() == 0  # nothing pre-selected
    page.check("#level-5")
    page.locator("input[name=indicators_good][value=efficiency]").check()
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("感谢您的评价")

    # A sub-item: 不满意 without a reason is refused; what was typed stays.
    page.locator("main a", has_text="去评价").first.click()
    page.check("#level-2")
    page.fill("#comment", "出生医学证明等了很久")
    page.click("main button[type=submit]")
    expect(page.locator(".error-summary")).to_contain_text("请至少选择一项原因")
    expect(page.locator("#comment")).to_have_value("出生医学证明等了很久")
    expect(page.locator("#level-2")).to_be_checked()
    _look(page, screenshots / "ratings-bad-refused.png", axe=False)
    page.locator("input[name=reasons][value=slow]").check()
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("感谢您的评价")

    # The platform follows it up; the citizen rates the fix.
    _until(page, "评价整改结果")
    expect(page.locator(".followup-steps")).to_contain_text("已回访核实")
    steps = page.locator(".followup-steps li .followup-steps__what").all_inner_texts()
    assert steps == ["已回访核实", "已制定整改计划", "已整改完成"]
    _look(page, screenshots / "ratings-followup-nojs.png", axe=False)
    page.locator("main a", has_text="评价整改结果").click()
    expect(page.locator("h1")).to_have_text("评价整改结果")
    page.check("#fix-satisfied")
    page.click("main button[type=submit]")
    expect(page.locator("main")).to_contain_text("感谢您对整改结果的评价")
    expect(page.locator(".ratings")).to_contain_text("您对整改的评价")
    cookies = context.cookies()
    context.close()

    # The same pages with JavaScript, right-to-left, in 长辈版 and at 360 px.
    for name, lang, elder, viewport in (
        ("zh_Hans", "zh_Hans", False, None),
        ("ug", "ug", False, None),
        ("elder", "zh_Hans", True, None),
        ("360", "zh_Hans", False, {"width": 360, "height": 740}),
    ):
        options = {**phone, **({"viewport": viewport} if viewport else {})}
        look = browser.new_context(**options)
        look.add_cookies([c for c in cookies if c["name"] not in ("lang", "elder")])  # type: ignore[misc]
        extra = [{"name": "lang", "value": lang, "url": live_url}]
        if elder:
            extra.append({"name": "elder", "value": "1", "url": live_url})
        look.add_cookies(extra)  # type: ignore[arg-type]
        view = look.new_page()
        view.goto(application)
        if lang == "ug":
            expect(view.locator("html")).to_have_attribute("dir", "rtl")
        _look(view, screenshots / f"ratings-application-{name}.png")
        view.locator("section.ratings").screenshot(
            path=str(screenshots / f"ratings-section-{name}.png")
        )
        view.locator("section.ratings a.button").first.click()  # an item not rated yet
        view.check("#level-1")  # the reasons show (CSS), nothing sent
        _look(view, screenshots / f"ratings-form-{name}.png")
        view.goto(live_url + "/ratings/things/newborn")
        expect(view.locator("svg.rating-chart__svg")).to_have_count(1)
        _look(view, screenshots / f"ratings-figures-{name}.png")
        if name == "zh_Hans":
            view.goto(live_url + "/ratings")
            _look(view, screenshots / "ratings-index.png")
        width = view.evaluate("document.documentElement.scrollWidth")
        assert width <= (viewport or phone["viewport"])["width"], name
        look.close()


def test_the_rating_form_shows_the_indicators_of_the_chosen_level(
    browser: Browser, phone: dict[str, Any], live_url: str, screenshots: Path
) -> None:
    """CSS alone (no script) shows what went well for a good level, the reasons for a bad one."""
    page = browser.new_page(**phone)
    page.set_content(
        '<link rel="stylesheet" href="' + live_url + '/static/css/portal.css">'
        '<form class="rating-form"><fieldset class="rating-levels">'
        + "".join(f'<input type="radio" name="level" value="{n}" id="l{n}">' for n in range(1, 6))
        + '</fieldset><fieldset class="rating-group rating-group--good" id="g">good</fieldset>'
        '<fieldset class="rating-group rating-group--fair" id="f">fair</fieldset>'
        '<fieldset class="rating-group rating-group--bad" id="b">bad</fieldset></form>'
    )
    page.wait_for_load_state("networkidle")
    assert [page.is_visible(s) for s in ("#g", "#f", "#b")] == [False, False, False]
    for level, shown in ((5, "#g"), (4, "#g"), (3, "#f"), (2, "#b"), (1, "#b")):
        page.check(f"#l{level}")
        assert [s for s in ("#g", "#f", "#b") if page.is_visible(s)] == [shown], level
    page.close()
