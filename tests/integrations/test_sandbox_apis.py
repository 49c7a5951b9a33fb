"""The data APIs of the sandbox (licenses, registry) as ``create_sandbox_app`` mounts them:
one bearer key for both, set with ``api_key``, and named on the index page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from integrations.sandbox import create_sandbox_app
from integrations.sandbox.people import HAOWEIDAO
from tests.integrations.helpers import (
    API_KEY,
    WECHAT_APPID,
    WECHAT_SECRET,
    free_port,
    portal_client,
    serve,
)

CUSTOM_KEY = "a-key-of-our-own"


@pytest.fixture(scope="module")
def standalone() -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_sandbox_app(
        url, [portal_client()], WECHAT_APPID, WECHAT_SECRET, api_key=CUSTOM_KEY
    )
    with serve(app, port):
        yield url


@pytest.mark.parametrize(
    "path",
    [
        "/licenses/api/v1/licenses/lic-sun-li-resident-id-card",
        f"/registry/api/v1/enterprises/{HAOWEIDAO.uscc}",
    ],
)
def test_the_api_key_is_the_one_given(http: httpx2.Client, standalone: str, path: str) -> None:
    def status(key: str) -> int:
        return http.get(standalone + path, headers={"authorization": f"Bearer {key}"}).status_code

    assert status(CUSTOM_KEY) == 200
    assert status(API_KEY) == 401
    assert http.get(standalone + path, headers={"authorization": CUSTOM_KEY}).status_code == 401


def test_errors_are_json(http: httpx2.Client, standalone: str) -> None:
    headers = {"authorization": f"Bearer {CUSTOM_KEY}"}
    api = f"{standalone}/licenses/api/v1"

    unknown_path = http.get(f"{api}/no-such-thing", headers=headers)
    wrong_method = http.delete(f"{api}/licenses/lic-sun-li-resident-id-card", headers=headers)
    no_type = http.get(f"{api}/holders/{HAOWEIDAO.uscc}/licenses", headers=headers)
    not_json = http.post(f"{api}/licenses", headers=headers, content=b"{not json")

    assert [r.status_code for r in (unknown_path, wrong_method, no_type, not_json)] == [
        404,
        405,
        400,
        400,
    ]
    assert [r.json()["error"] for r in (unknown_path, wrong_method, no_type, not_json)] == [
        "not_found",
        "method_not_allowed",
        "invalid_request",
        "invalid_request",
    ]


def test_index_names_the_apis(http: httpx2.Client, standalone: str) -> None:
    page = http.get(f"{standalone}/")

    assert f"{standalone}/licenses/api/v1" in page.text
    assert f"{standalone}/registry/api/v1" in page.text
    assert CUSTOM_KEY not in page.text
