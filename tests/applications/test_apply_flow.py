"""The whole apply flow through the real app, sandbox e-licenses over real HTTP."""

from __future__ import annotations

import re

from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.applications.models import Application, OutboxMessage
from tests.applications.formdata import photo, submit_page
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from


def _go(client: TestClient, response: object) -> str:
    location: str = response.headers["location"]  # type: ignore[attr-defined]
    return location


def start_newborn(client: TestClient) -> str:
    """Signs in as the mother, answers the questions; returns the draft's base path."""
    sign_in(client, "li-na", "L3", next_path="/things/newborn/apply")
    response = submit_page(client, "/things/newborn/apply")
    path = _go(client, response)
    for answer in ("yes", "no", "no"):
        path = _go(client, submit_page(client, path, {"answer": answer}))
    assert path.endswith("/result")
    return path.removesuffix("/result")


def test_newborn_from_questions_to_confirmation(client: TestClient, app: Starlette) -> None:
    base = start_newborn(client)
    result = client.get(f"{base}/result").text
    assert "社会保障卡申领" in result and "生育医疗费用报销" not in result
    section = _go(client, submit_page(client, f"{base}/result"))
    assert section == f"{base}/s/child"

    page = client.get(section).text
    assert "已从电子证照" in page  # the birth certificate fills the child's details
    data = {"f.child_name": "张小宝", "f.child_ethnicity": "汉族"}
    response = submit_page(client, section, data)
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    section = _go(client, response)
    while "/s/" in section:
        response = submit_page(
            client,
            section,
            {
                "f.relation_to_head": "child",
                "f.delivery_method": "pickup",
                "f.applicant_role": "mother",
            },
        )
        assert response.status_code == 303, response.text  # type: ignore[attr-defined]
        section = _go(client, response)
    assert section == f"{base}/materials"

    page = client.get(section).text
    licenses = dict(re.findall(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"', page))
    data: dict[str, object] = {}
    for key, license_id in licenses.items():
        data.update(
            {f"m.{key}.mode": "license", f"m.{key}.license": license_id, f"m.{key}.consent": "yes"}
        )
    data["m.child_photo.mode"] = "upload"
    response = submit_page(
        client, section, data, files={"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")}
    )
    assert _go(client, response) == f"{base}/check", response.text  # type: ignore[attr-defined]

    check = client.get(f"{base}/check").text
    assert "确认并提交" in check
    token = csrf_token_from(check)
    first = client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)
    second = client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    confirmation = client.get(first.headers["location"]).text
    number = re.search(r"YJS\d{14}", confirmation)
    assert number and "申请编号" in confirmation

    async def counts() -> tuple[int, int]:
        async with app.state.sessionmaker() as db:
            apps = await db.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.submission_number == number.group())
            )
            outbox = await db.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .join(Application, Application.public_id == OutboxMessage.idempotency_key)
                .where(Application.submission_number == number.group())
            )
            return int(apps or 0), int(outbox or 0)

    assert client.portal.call(counts) == (1, 1)  # type: ignore[union-attr]

    async def stored_values() -> str:
        async with app.state.sessionmaker() as db:
            raw = await db.execute(
                text('SELECT "values" FROM applications WHERE submission_number = :n'),
                {"n": number.group()},
            )
            return str(raw.scalar_one())

    # What was typed and prefilled (the mother's ID number among it) is sealed at rest.
    assert "410702199408270425" not in client.portal.call(stored_values)  # type: ignore[union-attr]
    pdf = client.get(first.headers["location"].split("?")[0] + "/receipt.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_validation_messages_in_chinese_and_english(client: TestClient) -> None:
    base = start_newborn(client)
    submit_page(client, f"{base}/result")
    response = submit_page(
        client,
        f"{base}/s/parents",
        {
            "f.applicant_role": "mother",
            "f.spouse_id_number": "123",
            "f.marriage_date": "2020-13-01",
        },
    )
    html = response.text  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "身份证号码不正确" in html and "请填写正确的日期" in html
    assert 'value="123"' in html  # what was typed stays
    english = client.post(
        f"{base}/s/parents?lang=en",
        data={"csrf_token": csrf_token_from(html), "f.spouse_id_number": "123"},
    )
    assert "Enter a correct ID card number" in english.text
    assert "Enter a date, for example 2026-11-22" in english.text


def test_another_person_cannot_open_the_draft_or_the_upload(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as mother,
        TestClient(app, base_url="http://testserver") as stranger,
    ):
        base = start_newborn(mother)
        sign_in(stranger, "zhang-wei", "L3")
        assert stranger.get(f"{base}/result").status_code == 404


def test_draft_survives_sign_out_and_in(client: TestClient) -> None:
    base = start_newborn(client)
    submit_page(client, f"{base}/result")
    submit_page(client, f"{base}/s/child", {"f.child_name": "张小宝", "action": "save"})
    token = csrf_token_from(client.get("/applications").text)
    client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=False)
    sign_in(client, "li-na", "L3", next_path="/applications")
    page = client.get("/applications").text
    assert "填写中" in page and "新生儿出生" in page
    assert 'value="张小宝"' in client.get(f"{base}/s/child").text


def _to_materials(client: TestClient) -> str:
    base = start_newborn(client)
    section = _go(client, submit_page(client, f"{base}/result"))
    while "/s/" in section:
        section = _go(
            client,
            submit_page(
                client,
                section,
                {
                    "f.relation_to_head": "child",
                    "f.delivery_method": "pickup",
                    "f.applicant_role": "mother",
                },
            ),
        )
    return base


def test_a_renamed_executable_is_refused_and_uploads_stay_private(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as mother,
        TestClient(app, base_url="http://testserver") as stranger,
    ):
        base = _to_materials(mother)
        elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
        refused = submit_page(
            mother,
            f"{base}/materials",
            {"m.child_photo.mode": "upload"},
            files={"m.child_photo.files": ("photo.jpg", elf, "image/jpeg")},
        )
        assert refused.status_code == 400  # type: ignore[attr-defined]
        assert "只能上传 JPG、PNG 图片或 PDF 文件" in refused.text  # type: ignore[attr-defined]
        ok = submit_page(
            mother,
            f"{base}/materials",
            {"m.child_photo.mode": "upload", "action": "upload"},
            files={"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")},
        )
        page = ok.text  # type: ignore[attr-defined]
        upload_url = re.search(r'href="(/uploads/[^"]+)"', page)
        assert upload_url
        assert mother.get(upload_url.group(1)).headers["content-type"] == "image/jpeg"
        sign_in(stranger, "zhang-wei", "L3")
        assert stranger.get(upload_url.group(1)).status_code == 404
