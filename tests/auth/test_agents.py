"""Enterprises and agents: who may act for whom, for what, until when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import AgentAuthorization
from integrations.sandbox.people import person_by_sub
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from

WU_LEI_ID = person_by_sub("wu-lei").id_number  # type: ignore[union-attr]


def _post(client: TestClient, path: str, page: str = "/profile", **data: object) -> object:
    token = csrf_token_from(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def _enterprise_key(client: TestClient) -> str:
    page = client.get("/profile").text
    return "enterprise:" + page.split('value="enterprise:')[1].split('"')[0]


def _as_enterprise(client: TestClient) -> None:
    response = _post(client, "/auth/act-as", subject=_enterprise_key(client), next="/profile")
    assert response.status_code == 303  # type: ignore[attr-defined]


def _grant(legal: TestClient, **overrides: object) -> object:
    data = {
        "agent_name": "吴磊",
        "agent_id_number": WU_LEI_ID,
        "valid_until": (datetime.now(UTC).date() + timedelta(days=30)).isoformat(),
        "scope": "chosen",
        "thing_codes": ["restaurant"],
        **overrides,
    }
    return _post(legal, "/enterprise/agents", page="/enterprise/agents", **data)


def test_only_a_legal_representative_reaches_the_agents_page(client: TestClient) -> None:
    sign_in(client, "zhang-wei", "L3")
    assert client.get("/enterprise/agents").status_code == 403


def test_cannot_act_for_an_enterprise_without_a_role(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as legal,
        TestClient(app, base_url="http://testserver") as other,
    ):
        sign_in(legal, "sun-li", "L4")
        key = _enterprise_key(legal)
        sign_in(other, "zhang-wei", "L3")
        assert _post(other, "/auth/act-as", subject=key).status_code == 403  # type: ignore[attr-defined]


def test_grant_validation_explains_and_keeps_input(client: TestClient) -> None:
    sign_in(client, "sun-li", "L4")
    _as_enterprise(client)
    response = _grant(client, agent_id_number="410702199003071235", valid_until="2020-01-01")
    html = response.text  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "请填写正确的 18 位身份证号码" in html and "有效期必须晚于今天" in html
    assert 'value="吴磊"' in html


def test_agent_lifecycle_scope_end_and_expiry(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as legal,
        TestClient(app, base_url="http://testserver") as agent,
        TestClient(app, base_url="http://testserver") as stranger,
    ):
        sign_in(legal, "sun-li", "L4")
        _as_enterprise(legal)
        assert _grant(legal).status_code == 303  # type: ignore[attr-defined]

        sign_in(stranger, "li-na", "L3")
        assert "好味道" not in stranger.get("/profile").text

        sign_in(agent, "wu-lei", "L4", next_path="/profile")
        page = agent.get("/profile").text
        assert "新乡市牧野区好味道餐饮有限公司" in page and "接受授权" in page
        grant_id = page.split('action="/agents/')[1].split("/")[0]
        # Someone else cannot accept an invitation addressed to another ID number.
        assert _post(stranger, f"/agents/{grant_id}/accept").status_code == 404  # type: ignore[attr-defined]
        assert _post(agent, f"/agents/{grant_id}/accept").status_code == 303  # type: ignore[attr-defined]

        _as_enterprise(agent)
        assert "经办人身份办事" in agent.get("/").text
        assert agent.get("/things/restaurant/apply").status_code == 200
        other = next(
            t.code
            for t in app.state.catalog.things()
            if t.audience.value == "enterprise"
            and t.code != "restaurant"
            and t.min_assurance in ("L2", "L3", "L4")
        )
        assert agent.get(f"/things/{other}/apply").status_code == 403  # out of scope
        assert agent.get("/enterprise/agents").status_code == 403  # agents cannot delegate

        async def expire() -> None:
            async with app.state.sessionmaker() as db:
                await db.execute(
                    update(AgentAuthorization).values(
                        valid_until=datetime.now(UTC) - timedelta(minutes=1)
                    )
                )
                await db.commit()

        agent.portal.call(expire)  # type: ignore[union-attr]
        assert "经办人身份办事" not in agent.get("/").text  # expiry enforced on the next request

        async def revive() -> None:
            async with app.state.sessionmaker() as db:
                await db.execute(
                    update(AgentAuthorization).values(
                        valid_until=datetime.now(UTC) + timedelta(days=1)
                    )
                )
                await db.commit()

        agent.portal.call(revive)  # type: ignore[union-attr]
        _as_enterprise(agent)
        assert "经办人身份办事" in agent.get("/").text
        assert _post(legal, f"/agents/{grant_id}/end", page="/enterprise/agents").status_code == 303  # type: ignore[attr-defined]
        assert "经办人身份办事" not in agent.get("/").text  # ended by the enterprise
