"""An assisted draft, submitted: the application's timeline says an assistant helped."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.applications.formdata import photo, submit_page
from tests.assist.helpers import ask, newborn_draft, person, post, take
from tests.conftest import csrf_token_from


def _go(response: object) -> str:
    location: str = response.headers["location"]  # type: ignore[attr-defined]
    return location


def _complete_and_submit(client: TestClient, base: str) -> str:
    section = _go(submit_page(client, f"{base}/result"))
    while "/s/" in section:
        data = {
            "f.child_ethnicity": "汉族",
            "f.relation_to_head": "child",
            "f.delivery_method": "pickup",
            "f.applicant_role": "mother",
        }
        section = _go(submit_page(client, section, data))
    page = client.get(section).text
    licenses = dict(re.findall(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"', page))
    data: dict[str, object] = {"m.child_photo.mode": "upload"}
    for key, license_id in licenses.items():
        data.update(
            {f"m.{key}.mode": "license", f"m.{key}.license": license_id, f"m.{key}.consent": "yes"}
        )
    files = {"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")}
    assert _go(submit_page(client, section, data, files=files)) == f"{base}/check"
    token = csrf_token_from(client.get(f"{base}/check").text)
    done = client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)
    return _go(done)


def test_the_timeline_names_the_assisted_session(app: Starlette) -> None:
    with person(app) as citizen, person(app, "zheng-hong") as assistant:
        draft = newborn_draft(citizen)
        session = ask(citizen, draft=draft)
        page = f"/assist/s/{session}"
        take(assistant, session)
        post(citizen, page, f"{page}/consent", {"draft": draft, "direct": "yes"})
        post(
            assistant,
            page,
            f"{page}/propose",
            {"field": "child_name", "value": "王小宝", "direct": "yes"},
        )
        post(assistant, page, f"{page}/end", {"outcome": "helped"})
        progress = _complete_and_submit(citizen, f"/drafts/{draft}")
        timeline = citizen.get(progress).text
        assert "帮办员远程协助填写了申请表" in timeline
        assert "王小宝" not in assistant.get(progress).text  # the application stays the citizen's
