"""The profile: validation that keeps input, ownership of every object, export, deletion."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.testclient import TestClient

from integrations.sandbox.people import person_by_sub
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from


def _post(client: TestClient, path: str, **data: str) -> object:
    token = csrf_token_from(client.get("/profile").text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_bad_phone_is_explained_and_the_input_kept(client: TestClient) -> None:
    sign_in(client, "chen-jing", "L3")
    response = _post(client, "/profile/entries", kind="phone", label="家里", value="12345")
    assert response.status_code == 400  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert "请填写 11 位手机号码" in html and 'href="#value"' in html
    assert 'value="12345"' in html and 'value="家里"' in html


def test_entries_belong_to_their_owner(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as a,
        TestClient(app, base_url="http://testserver") as b,
    ):
        sign_in(a, "zhang-wei", "L3")
        sign_in(b, "li-na", "L3")
        _post(a, "/profile/entries", kind="address", label="家", value="新乡市红旗区人民路 1 号")
        page = a.get("/profile").text
        entry_id = page.split('action="/profile/entries/')[1].split("/")[0]
        assert "人民路 1 号" not in b.get("/profile").text
        stolen = _post(b, f"/profile/entries/{entry_id}/delete")
        assert stolen.status_code == 404  # type: ignore[attr-defined]
        assert "人民路 1 号" in a.get("/profile").text


def test_consent_is_recorded_and_withdrawable(client: TestClient) -> None:
    sign_in(client, "wang-jianguo", "L3")
    _post(client, "/profile/consent", decision="grant")
    assert "已同意" in client.get("/profile").text
    _post(client, "/profile/consent", decision="withdraw")
    page = client.get("/profile").text
    assert "未同意" in page and "撤回" in page


def test_download_contains_everything_stored(client: TestClient) -> None:
    sign_in(client, "zhao-min", "L4")
    _post(client, "/profile/entries", kind="email", label="常用", value="zm@example.com")
    response = client.get("/profile/data.json")
    data = json.loads(response.text)
    assert response.headers["cache-control"] == "no-store"
    assert data["person"]["id_number"] == person_by_sub("zhao-min").id_number  # type: ignore[union-attr]
    assert data["contacts_and_addresses"][0]["value"] == "zm@example.com"


def test_delete_needs_confirmation_then_erases_and_signs_out(client: TestClient) -> None:
    sign_in(client, "aierken-maimaiti", "L3")
    _post(client, "/profile/entries", kind="address", label="家", value="乌鲁木齐路 2 号")
    refused = _post(client, "/profile/delete")
    assert refused.status_code == 400  # type: ignore[attr-defined]
    done = _post(client, "/profile/delete", confirm="yes")
    assert done.status_code == 200 and "账户数据已删除" in done.text  # type: ignore[attr-defined]
    assert client.get("/profile", follow_redirects=False).status_code == 303
    # Signing in again starts a fresh account: nothing of the old one comes back.
    sign_in(client, "aierken-maimaiti", "L3")
    assert "乌鲁木齐路" not in client.get("/profile").text


def test_profile_shows_no_full_id_number(client: TestClient) -> None:
    sign_in(client, "zhou-jie", "L3")
    id_number = person_by_sub("zhou-jie").id_number  # type: ignore[union-attr]
    page = client.get("/profile").text
    assert id_number not in page and id_number[-4:] in page
