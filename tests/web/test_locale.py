import pytest
from starlette.testclient import TestClient

from portal.i18n import from_tag, negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", "zh_Hans"),
        ("zh-TW", "zh_Hant"),
        ("zh-HK,en;q=0.5", "zh_Hant"),
        ("zh-Hant-TW", "zh_Hant"),
        ("en-GB,en;q=0.9", "en"),
        ("ug-CN", "ug"),
        ("fr-FR,en;q=0.3,zh;q=0.8", "zh_Hans"),
        ("fr-FR", None),
        ("", None),
        ("en;q=0, ug", "ug"),
        ("xx-!!", None),
    ],
)
def test_negotiate(header: str, expected: str | None) -> None:
    assert negotiate(header) == expected


def test_from_tag_accepts_our_own_codes() -> None:
    assert from_tag("zh_Hant") == "zh_Hant"
    assert from_tag("ug") == "ug"


def test_query_then_cookie_then_header(client: TestClient) -> None:
    html = client.get("/", headers={"Accept-Language": "zh-TW"}).text
    assert '<html lang="zh-Hant"' in html
    response = client.get("/?lang=ug", headers={"Accept-Language": "zh-TW"})
    assert '<html lang="ug" dir="rtl"' in response.text
    assert "lang=ug" in response.headers["set-cookie"]
    # The cookie now wins over Accept-Language.
    assert '<html lang="ug" dir="rtl"' in client.get("/", headers={"Accept-Language": "en"}).text


def test_unknown_lang_parameter_is_ignored(client: TestClient) -> None:
    response = client.get("/?lang=xx", headers={"Accept-Language": "en"})
    assert '<html lang="en"' in response.text
    assert "set-cookie" not in response.headers or "lang=" not in response.headers["set-cookie"]


def test_ui_strings_are_translated(client: TestClient) -> None:
    assert "Search" in client.get("/?lang=en").text
    assert "高效辦成一件事" in client.get("/?lang=zh_Hant").text
