"""An enterprise's wallet: its legal representative sees it; an agent only with license
rights (证照权限)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.actor import Actor, Subject
from auth.models import AgentAuthorization
from integrations.sandbox.people import person_by_sub
from portal import clock
from portal.wallet.access import may_use_subject_licenses
from tests.auth.helpers import sign_in
from tests.wallet.helpers import post

BUSINESS = "/wallet/licenses/lic-haoweidao-business-license"
FOOD = "/wallet/licenses/lic-haoweidao-food-business-license"
ENTERPRISE = "新乡市牧野区好味道餐饮有限公司"


def _as_enterprise(client: TestClient) -> None:
    page = client.get("/profile").text
    key = "enterprise:" + page.split('value="enterprise:')[1].split('"')[0]
    assert (
        post(client, "/auth/act-as", page="/profile", subject=key, next="/profile").status_code
        == 303
    )


def _invite(legal: TestClient, sub: str, rights: bool) -> None:
    person = person_by_sub(sub)
    assert person is not None
    data: dict[str, Any] = {
        "agent_name": person.name,
        "agent_id_number": person.id_number,
        "valid_until": (clock.now().date() + timedelta(days=30)).isoformat(),
        "scope": "all",
    }
    if rights:
        data["license_rights"] = "yes"
    response = post(legal, "/enterprise/agents", page="/enterprise/agents", **data)
    assert response.status_code == 303


def _accept_latest(app: Starlette, agent: TestClient) -> None:
    page = agent.get("/profile").text
    grant_id = page.split('action="/agents/')[1].split("/")[0]
    assert post(agent, f"/agents/{grant_id}/accept", page="/profile").status_code == 303


def test_the_legal_representative_sees_the_enterprise_wallet(client: TestClient) -> None:
    sign_in(client, "sun-li", "L4")
    page = client.get("/wallet").text
    assert ENTERPRISE in page and "营业执照" in page and "食品经营许可证" in page
    assert "天后到期" in page  # the food license runs out in 18 days
    assert "/things/restaurant" in page  # and the one-thing that renews it
    assert client.get(FOOD).status_code == 200


def test_an_agent_needs_license_rights(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as legal,
        TestClient(app, base_url="http://testserver") as agent,
    ):
        sign_in(legal, "sun-li", "L4")
        _as_enterprise(legal)
        _invite(legal, "chen-jing", rights=False)
        sign_in(agent, "chen-jing", "L3")
        _accept_latest(app, agent)
        _as_enterprise(agent)  # acting for it does not open its wallet
        assert 'id="wallet-enterprise-' not in agent.get("/wallet").text
        assert agent.get(BUSINESS).status_code == 404
        assert "学历证书" in agent.get("/wallet").text  # her own wallet is still hers
        assert agent.portal.call(_lends_licenses, app, False) is False  # type: ignore[union-attr]

        _invite(legal, "chen-jing", rights=True)

        async def pending() -> int:
            async with app.state.sessionmaker() as db:
                found = await db.scalars(
                    select(AgentAuthorization.id).where(
                        AgentAuthorization.status == "pending",
                        AgentAuthorization.license_rights,
                        AgentAuthorization.agent_name == "陈静",
                    )
                )
                return int(found.one())

        grant_id = agent.portal.call(pending)  # type: ignore[union-attr]
        assert post(agent, f"/agents/{grant_id}/accept", page="/profile").status_code == 303
        assert agent.get(BUSINESS).status_code == 200
        assert 'id="wallet-enterprise-' in agent.get("/wallet").text
        assert agent.portal.call(_lends_licenses, app, True) is True  # type: ignore[union-attr]


async def _lends_licenses(app: Starlette, rights: bool) -> bool:
    """Whether prefill and 免提交 may use the enterprise's licenses for 陈静's grant."""
    async with app.state.sessionmaker() as db:
        grant = (
            await db.scalars(
                select(AgentAuthorization)
                .where(
                    AgentAuthorization.agent_name == "陈静",
                    AgentAuthorization.status == "active",
                    AgentAuthorization.license_rights.is_(rights),
                )
                .order_by(AgentAuthorization.id.desc())
            )
        ).first()
        assert grant is not None and grant.agent_person_id is not None
        enterprise = Subject("enterprise", grant.enterprise_id, ENTERPRISE, "x")
        actor = Actor(
            grant.agent_person_id, "陈静", "L3", "oidc", (), enterprise, "agent", grant.id
        )
        return await may_use_subject_licenses(db, actor)
