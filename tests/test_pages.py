"""Every page through the real app and a real database: status, language, structure."""

import re

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.catalog.loader import load_catalog
from portal.catalog.schema import LOCALES
from tests.auth.helpers import sign_in

CATALOG = load_catalog()
CODES = sorted(CATALOG.things)
DIRECTION = {"zh_Hans": "ltr", "zh_Hant": "ltr", "en": "ltr", "ug": "rtl"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", CODES)
def test_every_guide_renders_in_every_locale(client: TestClient, code: str, locale: str) -> None:
    thing = CATALOG.things[code]
    for view in ("", "&view=full"):
        response = client.get(f"/things/{code}?lang={locale}{view}")
        assert response.status_code == 200
        html = response.text
        assert f'<html lang="{locale.replace("_", "-")}" dir="{DIRECTION[locale]}"' in html
        name = thing.name.get(locale) or thing.name.zh_Hans
        if locale == "zh_Hant" and thing.name.zh_Hant is None:
            from portal.i18n import traditional

            name = traditional(thing.name.zh_Hans)
        assert f"<h1>{_escape(name)}</h1>" in html
        for item in thing.items:
            item_name = item.name.get(locale) or item.name.zh_Hans
            if locale != "zh_Hant":
                assert _escape(item_name) in html


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def test_guide_shows_figures_materials_and_qr(client: TestClient) -> None:
    html = client.get("/things/newborn?lang=zh_Hans").text
    assert "改革成效" in html and "表单信息自动生成" in html
    assert "免提交：使用电子证照“居民身份证”" in html
    assert "可容缺受理" in html
    assert "<svg" in html and "http://testserver/things/newborn" in html
    assert 'href="/things/newborn/apply"' in html


def test_full_guide_has_codes_and_legal_basis(client: TestClient) -> None:
    brief = client.get("/things/newborn").text
    full = client.get("/things/newborn?view=full").text
    assert "11410700846996761G070111001000002" not in brief
    assert "11410700846996761G070111001000002" in full
    assert "《中华人民共和国户口登记条例》第七条" in full


def test_ug_guide_marks_untranslated_text(client: TestClient) -> None:
    html = client.get("/things/newborn?lang=ug").text
    # The summary has no ug text: it is shown in zh_Hans, marked as such, with a note.
    assert '<span lang="zh-Hans" dir="ltr">孩子出生后' in html
    assert 'class="fallback-note"' in html


def test_zh_hant_is_converted_when_not_written(client: TestClient) -> None:
    html = client.get("/things/newborn?lang=zh_Hant").text
    assert "新生兒出生" in html
    assert "fallback-note" not in html


def test_unknown_thing_is_a_friendly_404(client: TestClient) -> None:
    response = client.get("/things/no-such-thing")
    assert response.status_code == 404
    assert "找不到页面" in response.text


def test_home_lists_both_audiences(client: TestClient) -> None:
    person = client.get("/").text
    enterprise = client.get("/?audience=enterprise").text
    assert "新生儿出生" in person
    assert 'aria-current="page">个人办事' in person
    assert 'aria-current="page">企业办事' in enterprise
    assert 'action="/search"' in person and 'action="/preferences"' in person


def test_search_page_and_htmx_fragment(client: TestClient) -> None:
    page = client.get("/search", params={"q": "xsecs"})
    assert page.status_code == 200 and "<html" in page.text and "/things/newborn" in page.text
    fragment = client.get("/search", params={"q": "xsecs"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "/things/newborn" in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


def test_search_without_results_says_what_to_do(client: TestClient) -> None:
    html = client.get("/search", params={"q": "qqqqxz"}).text
    assert "没有找到“qqqqxz”" in html


def test_search_escapes_the_query(client: TestClient) -> None:
    html = client.get("/search", params={"q": "<script>x</script>"}).text
    assert "<script>x</script>" not in html


def test_effects_overview_lists_every_thing(client: TestClient) -> None:
    html = client.get("/effects").text
    for code in CODES:
        assert f'href="/things/{code}"' in html


def test_apply_entry_asks_for_sign_in_at_the_things_level(client: TestClient) -> None:
    for code in CODES:
        response = client.get(f"/things/{code}/apply", follow_redirects=False)
        assert response.status_code == 303
        level = CATALOG.things[code].min_assurance
        suffix = "" if level == "L2" else f"&acr={level}"
        assert (
            response.headers["location"] == f"/auth/login?next=%2Fthings%2F{code}%2Fapply{suffix}"
        )


def test_pages_work_without_javascript(client: TestClient) -> None:
    """Every htmx attribute sits on an element that also works as plain HTML."""
    for path in ["/", "/search?q=chusheng", "/things/newborn"]:
        html = client.get(path).text
        for tag in re.findall(r"<[^>]+hx-get=[^>]+>", html):
            assert "name=" in tag or "href=" in tag, tag
        for form in re.findall(r"<form[^>]*>", html):
            assert "action=" in form, form


def test_a_guide_kept_for_everyone_still_names_the_person_reading_it(app: Starlette) -> None:
    """The guide's content is rendered once and kept (Templates.fragment); the page around
    it is each reader's own."""
    pages = []
    for person in ("zhang-wei", "li-na"):
        with TestClient(app) as reader:
            sign_in(reader, person, "L3")
            pages.append(reader.get("/things/newborn").text)
    assert "张伟" in pages[0] and "李娜" not in pages[0]
    assert "李娜" in pages[1] and "张伟" not in pages[1]
