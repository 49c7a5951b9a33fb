"""授权用证: grant, the organisation's link, annotated copies, revocation and expiry at once,
and the usage log the holder sees."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal import clock
from portal.wallet.models import UseGrant
from tests.auth.helpers import sign_in
from tests.wallet.helpers import post

SOCIAL = "lic-zhang-wei-social-security-card"
HOUSE = "lic-zhang-wei-real-estate-certificate"
BANK_USCC = "91410700MA45RT3K8A"  # any well-formed USCC will do


def _grant(client: TestClient, **overrides: Any) -> Any:
    page = f"/wallet/licenses/{SOCIAL}/grant"
    data = {
        "org_name": "中国工商银行新乡分行",
        "org_uscc": BANK_USCC,
        "reason": "办理住房贷款",
        "valid_until": (clock.china(clock.now()).date() + timedelta(days=10)).isoformat(),
        "license_ids": [SOCIAL, HOUSE],
        **overrides,
    }
    return post(client, page, page=page, **data)


def _link(client: TestClient, grant_path: str) -> str:
    page = client.get(grant_path).text
    match = re.search(r'href="http://testserver(/use/[A-Za-z0-9_\-]+)"', page)
    assert match, page
    return match.group(1)


def test_a_grant_explains_bad_input_and_keeps_it(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    response = _grant(
        client, org_uscc="91410700MA45RT3K8B", reason="", valid_until="2020-01-01", license_ids=[]
    )
    assert response.status_code == 400
    html = response.text
    for message in (
        "校验位对不上",
        "请填写用证事由",
        "截止日期不能早于今天",
        "请至少选择",
    ):
        assert message in html, message
    assert 'value="中国工商银行新乡分行"' in html
    short = _grant(client, org_uscc="9141070")
    assert "统一社会信用代码不正确：应为 18 位" in short.text
    foreign = _grant(client, license_ids=["lic-li-na-social-security-card"])
    assert foreign.status_code == 400  # another person's license cannot be granted


def test_grant_view_download_revoke(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as holder,
        TestClient(app, base_url="http://testserver") as bank,
    ):
        sign_in(holder, "zhang-wei", "L3")
        response = _grant(holder)
        assert response.status_code == 303
        grant_path = response.headers["location"]
        link = _link(holder, grant_path)

        page = bank.get(link)
        assert page.status_code == 200 and "办理住房贷款" in page.text
        assert "社会保障卡" in page.text and "不动产权证书" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        view = bank.get(f"{link}/0/copy.pdf")
        assert view.status_code == 200 and view.content.startswith(b"%PDF")
        assert view.headers["content-disposition"].startswith("inline")
        download = bank.get(f"{link}/1/copy.pdf?download=1")
        assert download.headers["content-disposition"].startswith("attachment")
        assert bank.get(f"{link}/2/copy.pdf").status_code == 200  # out of range: the page

        log = holder.get("/wallet/log").text
        assert log.count("中国工商银行新乡分行") >= 2 and "事由：办理住房贷款" in log
        assert "查看加注件" in log and "下载加注件" in log

        assert post(holder, f"{grant_path}/revoke", page=grant_path).status_code == 303
        assert "已撤销" in holder.get(grant_path).text
        after = bank.get(link)
        assert after.status_code == 410 and "已撤销这项授权" in after.text
        refused = bank.get(f"{link}/0/copy.pdf")
        assert refused.status_code == 410 and not refused.content.startswith(b"%PDF")


def test_an_expired_grant_stops_at_once(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as holder,
        TestClient(app, base_url="http://testserver") as bank,
    ):
        sign_in(holder, "zhang-wei", "L3")
        grant_path = _grant(holder, reason="开立账户").headers["location"]
        link = _link(holder, grant_path)
        assert bank.get(f"{link}/0/copy.pdf").status_code == 200
        grant_id = int(grant_path.rsplit("/", 1)[1])

        async def expire() -> None:
            async with app.state.sessionmaker() as db:
                await db.execute(
                    update(UseGrant)
                    .where(UseGrant.id == grant_id)
                    .values(valid_until=clock.now() - timedelta(seconds=1))
                )
                await db.commit()

        holder.portal.call(expire)  # type: ignore[union-attr]
        page = bank.get(f"{link}/0/copy.pdf")
        assert page.status_code == 410 and "这项授权已过期" in page.text
        assert "已过期" in holder.get(grant_path).text


def test_the_watermark_names_org_reason_and_date() -> None:
    from datetime import date

    from portal.wallet.copy import watermark

    text = watermark("中国工商银行新乡分行", "办理住房贷款", date(2027, 1, 31))
    assert text == "仅供中国工商银行新乡分行用于办理住房贷款，有效期至2027-01-31"


def test_someone_else_cannot_see_or_revoke_a_grant(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as holder,
        TestClient(app, base_url="http://testserver") as other,
    ):
        sign_in(holder, "zhang-wei", "L3")
        grant_path = _grant(holder, reason="租房").headers["location"]
        sign_in(other, "li-na", "L3")
        assert other.get(grant_path).status_code == 404
        assert post(other, f"{grant_path}/revoke").status_code == 404
        assert "租房" not in other.get("/wallet/grants").text
        assert "租房" in holder.get("/wallet/grants").text
        assert "有效" in holder.get(grant_path).text  # still active


def test_an_unknown_link_is_not_found(client: TestClient) -> None:
    assert client.get("/use/not-a-real-link").status_code == 404
    assert client.get("/use/not-a-real-link/0/copy.pdf").status_code == 404


def test_the_annotated_copy_carries_the_watermark_across_the_page(
    app: Starlette, settings: Any
) -> None:
    import asyncio
    from datetime import date

    from weasyprint import HTML

    from integrations.licenses import LicenseLibrary
    from portal.wallet.copy import data_uri, watermark

    library = LicenseLibrary(settings.licenses_api_url, settings.integrations_api_key)
    license = asyncio.run(library.get(SOCIAL))
    image, kind = asyncio.run(library.file(SOCIAL))
    text = watermark("中国工商银行新乡分行", "办理住房贷款", date(2027, 1, 31))
    grant = UseGrant(org_name="中国工商银行新乡分行", org_uscc=BANK_USCC)
    html = app.state.templates.env.get_template("wallet/copy_pdf.html").render(
        grant=grant,
        license=license,
        image=data_uri(image, kind),
        watermark=text,
        made_at=clock.china(clock.now()),
        masked=lambda code: code[:3] + "***",
    )
    document = HTML(string=html).render()
    assert len(document.pages) == 1

    def texts(box: Any) -> list[str]:
        own = [box.text] if hasattr(box, "text") else []
        return own + [t for child in getattr(box, "children", []) for t in texts(child)]

    laid_out = texts(document.pages[0]._page_box)
    # The annotation once in red at the top, and repeated across the page as the watermark.
    assert sum(text in line for line in laid_out) >= 10
    assert license.number in laid_out and "410711199203140316" not in "".join(laid_out)


def test_inside_wechat_the_copy_is_an_inline_picture(app: Starlette) -> None:
    wechat = {"user-agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50 miniProgram"}
    with (
        TestClient(app, base_url="http://testserver") as holder,
        TestClient(app, base_url="http://testserver", headers=wechat) as bank,
    ):
        sign_in(holder, "zhang-wei", "L3")
        grant_path = _grant(holder, reason="办理信用卡").headers["location"]
        link = _link(holder, grant_path)
        page = bank.get(link).text
        assert f'src="{link}/0/copy.png"' in page and "download=1" not in page
        picture = bank.get(f"{link}/0/copy.png")
        assert picture.headers["content-type"] == "image/png"
        assert picture.headers["content-disposition"] == "inline"
        assert picture.content.startswith(b"\x89PNG")
        assert "办理信用卡" in holder.get("/wallet/log").text
        card = holder.get(f"/wallet/licenses/{SOCIAL}", headers=wechat).text
        assert f'src="/wallet/licenses/{SOCIAL}/card.png"' in card  # long-press to save
