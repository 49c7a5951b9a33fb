"""亮证 and 扫码核验 through the real app, the sandbox library over real HTTP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal import clock
from tests.auth.helpers import sign_in
from tests.integrations.helpers import Sandbox
from tests.wallet.helpers import post, verify_path

SOCIAL = "lic-zhang-wei-social-security-card"
CARD = f"/wallet/licenses/{SOCIAL}"


def test_the_wallet_lists_own_and_family_licenses(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    page = client.get("/wallet").text
    for name in ("居民身份证", "结婚证", "社会保障卡", "不动产权证书", "出生医学证明"):
        assert name in page, name
    assert "您是父亲" in page  # the newborn's birth certificate names him
    assert "410711199203140316" not in page


def test_a_scanned_code_shows_only_what_the_holder_chose(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    card = client.get(CARD)
    assert card.status_code == 200 and card.headers["cache-control"] == "no-store"
    assert "data-live-clock" in card.text and "校验位正确" in card.text
    assert "河南省新乡市" in card.text  # the jurisdiction by name (GB/T 2260)
    response = post(client, f"{CARD}/disclose", page=CARD, fields=["name", "number"])
    assert response.status_code == 303
    path = verify_path(client.get(CARD).text)

    with TestClient(client.app, base_url="http://testserver") as scanner:  # nobody signed in
        page = scanner.get(path)
    assert page.status_code == 200 and "证照真实有效" in page.text
    assert "社会保障卡" in page.text and "证照编号" in page.text
    assert "张伟" not in page.text and "发证机关" not in page.text  # not chosen
    log = client.get("/wallet/log").text
    assert "扫码核验" in log and "扫码的人" in log  # the holder sees the scan


def test_the_qr_block_alone_for_htmx(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    first = verify_path(client.get(CARD).text)
    part = client.get(f"{CARD}?part=qr", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<div id="qr"') and "<html" not in part.text
    assert verify_path(part.text) != first  # a new code each refresh


def test_a_tampered_code_says_so(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    path = verify_path(client.get(CARD).text)
    token_id, expiry, signature = path.removeprefix("/verify/").split(".")
    later = str(int(expiry) + 3600)
    for forged in (
        f"{token_id}.{later}.{signature}",  # a longer life
        f"{token_id[:-1]}{'A' if token_id[-1] != 'A' else 'B'}.{expiry}.{signature}",
        f"{token_id}.{expiry}.{signature[:-2]}xx",
        "nonsense",
    ):
        page = client.get(f"/verify/{forged}")
        assert page.status_code == 410 and "核验码无效" in page.text, forged
        assert "社会保障卡" not in page.text


def test_an_expired_code_says_so(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(client, "zhang-wei", "L3")
    path = verify_path(client.get(CARD).text)
    later = clock.now() + timedelta(minutes=5, seconds=1)
    fake = SimpleNamespace(now=lambda: later, aware=clock.aware, china=clock.china)
    monkeypatch.setattr("portal.wallet.verification.clock", fake)
    page = client.get(path)
    assert page.status_code == 410 and "核验码已过期" in page.text
    assert "社会保障卡" not in page.text


def test_a_withdrawn_code_says_so_at_once(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    path = verify_path(client.get(CARD).text)
    assert "证照真实有效" in client.get(path).text
    assert post(client, f"{CARD}/stop", page=CARD).status_code == 303
    page = client.get(path)
    assert page.status_code == 410 and "已被持证人作废" in page.text
    assert "证照真实有效" in client.get(verify_path(client.get(CARD).text)).text  # new code


def test_a_license_revoked_in_the_library_fails_verification(
    client: TestClient, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, "zhang-wei", "L3")
    path = verify_path(client.get(CARD).text)
    store = sandbox.license_store
    revoked = dataclasses.replace(store.licenses[SOCIAL], status="revoked")
    monkeypatch.setitem(store.licenses, SOCIAL, revoked)
    monkeypatch.setitem(store.by_identifier, revoked.identifier, revoked)
    page = client.get(path)
    assert "证照已不再有效" in page.text and "发证机关已注销" in page.text
    assert "证照真实有效" not in page.text
    card = client.get(CARD).text
    assert "已注销" in card and "/verify/" not in card  # no code for a revoked license


def test_another_persons_license_is_not_found(app: Starlette) -> None:
    with TestClient(app, base_url="http://testserver") as other:
        sign_in(other, "li-na", "L3")
        for path in (CARD, f"{CARD}/image", f"{CARD}/card.png", f"{CARD}/grant"):
            assert other.get(path).status_code == 404, path
        assert post(other, f"{CARD}/stop").status_code == 404
        assert "社会保障卡" in other.get("/wallet").text  # her own
        # Shared licenses stay shared: both parents see their daughter's birth certificate.
        birth = "/wallet/licenses/lic-zhang-yutong-birth-medical-certificate"
        assert other.get(birth).status_code == 200


def test_the_license_image_and_the_card_image_are_inline(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    image = client.get(f"{CARD}/image")
    assert image.headers["content-type"] == "image/png"
    assert image.headers["content-disposition"] == "inline"
    card = client.get(f"{CARD}/card.png")
    assert card.content.startswith(b"\x89PNG") and card.headers["cache-control"] == "no-store"


def test_the_wallet_needs_sign_in(client: TestClient) -> None:
    response = client.get("/wallet", follow_redirects=False)
    assert response.status_code == 303 and "/auth/login" in response.headers["location"]


def test_codes_expired_long_ago_are_pruned(client: TestClient, app: Starlette) -> None:
    from sqlalchemy import func, select, update

    from portal.wallet import verification
    from portal.wallet.models import VerificationToken

    sign_in(client, "zhang-wei", "L3")
    path = verify_path(client.get(CARD).text)
    token_id = path.removeprefix("/verify/").split(".")[0]

    async def age(days: int) -> int:
        async with app.state.sessionmaker() as db:
            await db.execute(
                update(VerificationToken)
                .where(VerificationToken.token_id == token_id)
                .values(expires_at=clock.now() - timedelta(days=days))
            )
            await verification.prune(db)
            await db.commit()
            left = await db.scalar(
                select(func.count())
                .select_from(VerificationToken)
                .where(VerificationToken.token_id == token_id)
            )
            return int(left or 0)

    assert client.portal.call(age, 0) == 1  # type: ignore[union-attr]
    assert client.portal.call(age, 2) == 0  # type: ignore[union-attr]
