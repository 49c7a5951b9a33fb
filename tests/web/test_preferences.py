import pytest
from starlette.testclient import TestClient

from portal.web.preferences import snap_scale


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.4", 140),
        ("1", 100),
        ("1.12", 115),
        ("23.8", None),
        ("abc", None),
        (None, None),
        ("1.7", 160),
    ],
)
def test_snap_scale(raw: str | None, expected: int | None) -> None:
    assert snap_scale(raw) == expected


def test_wechat_font_scale_is_applied_and_remembered(client: TestClient) -> None:
    first = client.get("/?font_scale=1.4")
    assert 'class="fs-140"' in first.text
    assert "font_scale=1.4" in first.headers["set-cookie"]
    assert 'class="fs-140"' in client.get("/things/newborn").text
