"""The load run's 422 through the pages: the e-licence library could not answer while the
materials were chosen, so the licences had no identifier. The portal says so on the
materials and check pages, in the person's language, and submits nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.applications import prefill_io
from portal.applications.models import Application
from tests.applications.formdata import photo, submit_page
from tests.applications.test_apply_flow import _to_materials
from tests.conftest import csrf_token_from


def test_licences_the_library_did_not_give_stop_the_submission(
    client: TestClient, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _to_materials(client)
    page = client.get(f"{base}/materials").text
    licenses = dict(re.findall(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"', page))
    assert licenses

    async def unreachable(request: Any, db: Any, actor: Any, needed: Any) -> dict[str, list[Any]]:
        return {}  # what the wallet gives when the library cannot answer

    monkeypatch.setattr(prefill_io, "licenses_for", unreachable)
    data: dict[str, object] = {"m.child_photo.mode": "upload"}
    for key, license_id in licenses.items():
        data |= {f"m.{key}.mode": "license", f"m.{key}.license": license_id}
        data[f"m.{key}.consent"] = "yes"
    files = {"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")}
    refused = submit_page(client, f"{base}/materials", data, files)
    assert refused.status_code == 400
    assert "没有取到这份电子证照，请重新选择，或改为上传材料" in refused.text

    check = client.get(f"{base}/check")
    assert "没有取到这份电子证照" in check.text and "确认并提交" not in check.text
    assert f'href="{base}/materials#' in check.text  # the way to the page that fixes it
    english = client.get(f"{base}/check?lang=en").text
    assert "The e-licence could not be fetched" in english

    token = csrf_token_from(check.text)
    submitted = client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)
    assert submitted.status_code == 303 and submitted.headers["location"] == f"{base}/check"

    async def applications() -> int:
        draft = base.rsplit("/", 1)[1]
        async with app.state.sessionmaker() as db:
            query = select(func.count()).where(Application.draft_public_id == draft)
            return int(await db.scalar(query) or 0)

    assert client.portal.call(applications) == 0  # type: ignore[union-attr]
