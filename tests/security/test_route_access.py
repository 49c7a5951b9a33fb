"""Every registered route × every kind of caller: each gets what the table says, nothing else.

ACCESS declares, per route and method, the outcome for each role. The objects in the URL
(draft, upload, application, profile entry, authorisation) belong to person A; everyone else
must get 403 or 404 and none of A's data. The agents act for the enterprise 好味道: agent_in
is authorised for the restaurant one-thing, agent_out for another one. A route that is not in
the table fails the test: whoever adds a route classifies it here.

Unsafe requests (POST…) carry a valid CSRF token, so the guard under test is the route's own,
not the CSRF check. Where a probe would change the owner's own state for good (withdraw,
delete), the owner is not probed (``SKIP``): the area's tests cover what the owner can do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from auth.models import AgentAuthorization
from portal.applications.package import file_token
from tests.applications.formdata import photo, submit_page
from tests.applications.test_apply_flow import _to_materials
from tests.auth.helpers import sign_in
from tests.auth.test_agents import _as_enterprise, _grant, _post
from tests.conftest import csrf_token_from
from tests.relay.live import apply_newborn

ROLES = ("anonymous", "a", "b", "agent_in", "agent_out", "assistant")

OK = "ok"  # served: 2xx, 3xx, 400 (input refused) or 409 (not now), never sign-in
LOGIN = "login"  # sent to sign in
DENY = "deny"  # 403 or 404, with none of A's data
SKIP = "skip"  # not probed (see the module docstring)
UNSIGNED = "unsigned"  # 400/401: a webhook without a valid signature


def every(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome_when_signed_in: str = OK) -> dict[str, str]:
    """Anyone signed in, about themselves (no one else's object in the URL)."""
    return {**every(outcome_when_signed_in), "anonymous": LOGIN}


def owner_only(owner: str = OK) -> dict[str, str]:
    """A's object in the URL: A only."""
    return {**every(DENY), "anonymous": LOGIN, "a": owner}


def legal_representative_only() -> dict[str, str]:
    """Only the enterprise's legal representative (none of the roles here is one)."""
    return {**every(DENY), "anonymous": LOGIN}


ACCESS: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/"): every(OK),
    ("GET", "/search"): every(OK),
    ("GET", "/effects"): every(OK),
    ("GET", "/things/{code:str}"): every(OK),
    ("POST", "/preferences"): every(OK),
    ("GET", "/auth/login"): every(OK),
    ("GET", "/auth/callback"): every(OK),  # no state: "sign-in not completed", 400
    # Signing out ends the probing role's own session: probed for the anonymous only.
    ("POST", "/auth/logout"): {**every(SKIP), "anonymous": OK},
    ("GET", "/auth/logged-out"): every(OK),
    ("GET", "/auth/wechat"): every(OK),  # no code: "log in again from the mini-program", 400
    ("POST", "/auth/act-as"): {**signed_in(DENY), "agent_in": SKIP, "agent_out": SKIP},
    ("GET", "/profile"): signed_in(),
    ("POST", "/profile/entries"): signed_in(),  # an empty entry is refused, 400
    ("POST", "/profile/entries/{entry_id:int}/delete"): owner_only(SKIP),
    ("POST", "/profile/consent"): signed_in(SKIP),  # changes the prober's own consent
    ("POST", "/profile/wechat/{binding_id:int}/unbind"): owner_only(SKIP),
    ("GET", "/profile/data.json"): signed_in(),
    ("POST", "/profile/delete"): signed_in(),  # without confirm=yes: asks again, 400
    ("GET", "/enterprise/agents"): legal_representative_only(),
    ("POST", "/enterprise/agents"): legal_representative_only(),
    # The authorisation was granted to agent_in, who accepted it already.
    ("POST", "/agents/{grant_id:int}/accept"): {**owner_only(DENY), "agent_in": SKIP},
    ("POST", "/agents/{grant_id:int}/end"): {**owner_only(DENY), "agent_in": SKIP},
    # An individual's one-thing: agents acting for the enterprise may not start it.
    ("GET", "/things/{code:str}/apply"): {**signed_in(), "agent_in": DENY, "agent_out": DENY},
    ("POST", "/things/{code:str}/apply"): {**signed_in(SKIP), "agent_in": DENY, "agent_out": DENY},
    ("GET", "/drafts/{draft:str}"): owner_only(),
    ("GET", "/drafts/{draft:str}/q/{question:str}"): owner_only(),
    ("POST", "/drafts/{draft:str}/q/{question:str}"): owner_only(),  # no answer: 400
    ("GET", "/drafts/{draft:str}/result"): owner_only(),
    ("POST", "/drafts/{draft:str}/result"): owner_only(SKIP),
    ("GET", "/drafts/{draft:str}/s/{section:str}"): owner_only(),
    ("POST", "/drafts/{draft:str}/s/{section:str}"): owner_only(SKIP),
    ("POST", "/drafts/{draft:str}/s/{section:str}/autosave"): owner_only(SKIP),
    ("GET", "/drafts/{draft:str}/continue"): owner_only(),
    ("GET", "/drafts/{draft:str}/materials"): owner_only(),
    ("POST", "/drafts/{draft:str}/materials"): owner_only(SKIP),
    ("POST", "/drafts/{draft:str}/uploads/{upload:str}/delete"): owner_only(SKIP),
    ("GET", "/drafts/{draft:str}/check"): owner_only(),
    ("POST", "/drafts/{draft:str}/submit"): owner_only(SKIP),
    ("GET", "/uploads/{upload:str}"): owner_only(),
    ("GET", "/applications"): signed_in(),
    ("GET", "/applications/{application:str}/receipt.pdf"): owner_only(),
    ("GET", "/applications/{application:str}"): owner_only(),
    ("GET", "/applications/{application:str}/withdraw"): owner_only(),
    ("POST", "/applications/{application:str}/withdraw"): owner_only(SKIP),
    ("GET", "/applications/{application:str}/supplement"): owner_only(),
    ("POST", "/applications/{application:str}/supplement"): owner_only(SKIP),
    ("GET", "/track"): every(OK),
    ("POST", "/track"): every(OK),  # nothing typed: "fill in both", 400, for everyone
    # A capability URL for the platform: whoever holds the signed, expiring token.
    ("GET", "/intake-files/{token:str}"): every(OK),
    ("POST", "/webhooks/intake"): every(UNSIGNED),
    ("GET", "/profile/notifications"): signed_in(),
    ("POST", "/profile/notifications"): signed_in(SKIP),
    ("GET", "/healthz"): every(OK),
    ("GET", "/metrics"): every(OK),
}
QUESTION = "settle_here"  # the newborn one-thing's first question
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MOUNTS = frozenset({"/static"})  # files only: no objects, no state


def registered(app: Starlette) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Route):
            found.extend((m, route.path) for m in sorted((route.methods or set()) - {"HEAD"}))
        else:
            assert isinstance(route, Mount) and route.path in MOUNTS, (
                f"mount {getattr(route, 'path', route)} is not covered: walk its routes here"
            )
    return found


def test_every_route_is_classified(app: Starlette) -> None:
    missing = [f"{m} {p}" for m, p in registered(app) if (m, p) not in ACCESS]
    assert not missing, (
        "routes missing from ACCESS in tests/security/test_route_access.py — add each with "
        "the outcome for every role: " + ", ".join(missing)
    )
    stale = [f"{m} {p}" for m, p in ACCESS if (m, p) not in set(registered(app))]
    assert not stale, f"ACCESS lists routes that no longer exist: {stale}"
    assert all(set(row) == set(ROLES) for row in ACCESS.values())


@dataclass
class World:
    clients: dict[str, TestClient]
    params: dict[str, str]
    secret: str  # what only A's pages show
    enterprise_draft: str  # the enterprise's restaurant draft, started by its legal rep


def _draft_of(path: str) -> str:
    return path.split("/drafts/")[1].split("/")[0]


@pytest.fixture(scope="module")
def world(app: Starlette) -> Iterator[World]:
    with ExitStack() as stack:
        clients = {
            role: stack.enter_context(TestClient(app, base_url="http://testserver"))
            for role in ROLES
            if role != "assistant"
        }
        a, legal = clients["a"], stack.enter_context(TestClient(app, base_url="http://testserver"))
        application_path = apply_newborn(a, "li-na")
        # A second, unfinished draft with an upload in it.
        base = _to_materials(a)
        submit_page(
            a,
            f"{base}/materials",
            {"m.child_photo.mode": "upload", "action": "upload"},
            files={"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")},
        )
        draft = _draft_of(base)
        upload = re.findall(r'href="/uploads/([\w-]+)"', a.get(f"{base}/materials").text)[0]
        token = csrf_token_from(a.get("/profile").text)
        a.post(
            "/profile/entries",
            data={"csrf_token": token, "kind": "phone", "label": "家", "value": "13812345678"},
        )
        entry = re.findall(r'action="/profile/entries/(\d+)/delete"', a.get("/profile").text)[-1]

        sign_in(legal, "sun-li", "L4")
        _as_enterprise(legal)
        grant = _authorise(app, legal, clients["agent_in"], "wu-lei", "restaurant")
        _authorise(app, legal, clients["agent_out"], "zheng-hong", "credit-repair")
        enterprise_draft = _draft_of(
            submit_page(legal, "/things/restaurant/apply").headers["location"]
        )
        sign_in(clients["b"], "zhang-wei", "L3")

        params = {
            "code": "newborn",
            "draft": draft,
            "question": QUESTION,
            "section": "child",
            "upload": upload,
            "application": application_path.rsplit("/", 1)[1],
            "entry_id": entry,
            "binding_id": "1",
            "grant_id": grant,
            "token": file_token(app.state.settings.secret_key, upload, 2**40),
        }
        yield World(clients, params, "13812345678", enterprise_draft)


def _authorise(app: Starlette, legal: TestClient, agent: TestClient, sub: str, thing: str) -> str:
    """The legal representative authorises ``sub`` for one one-thing; they accept and act for
    the enterprise. Returns the authorisation's id."""
    response = _grant(legal, agent_name=_name(sub), agent_id_number=_id(sub), thing_codes=[thing])
    assert response.status_code == 303  # type: ignore[attr-defined]

    async def newest() -> int:
        async with app.state.sessionmaker() as db:
            return int(await db.scalar(select(func.max(AgentAuthorization.id))))

    grant = str(legal.portal.call(newest))  # type: ignore[union-attr]
    sign_in(agent, sub, "L4")
    assert _post(agent, f"/agents/{grant}/accept").status_code == 303  # type: ignore[attr-defined]
    _as_enterprise(agent)
    return grant


def _name(sub: str) -> str:
    from integrations.sandbox.people import person_by_sub

    person = person_by_sub(sub)
    assert person is not None
    return person.name


def _id(sub: str) -> str:
    from integrations.sandbox.people import person_by_sub

    person = person_by_sub(sub)
    assert person is not None
    return person.id_number


def _fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: params[m.group(1)], path)


def _probe(world: World, role: str, method: str, path: str) -> tuple[int, str, str]:
    client = world.clients[role]
    url = _fill(path, world.params)
    if method in UNSAFE:
        token = csrf_token_from(client.get("/track").text)
        response = client.request(method, url, data={"csrf_token": token}, follow_redirects=False)
    else:
        response = client.request(method, url, follow_redirects=False)
    return response.status_code, response.headers.get("location", ""), response.text


CASES = [(m, p, r) for (m, p), row in ACCESS.items() for r in ROLES if row[r] != SKIP]


@pytest.mark.parametrize(
    ("method", "path", "role"), CASES, ids=[f"{r}:{m}:{p}" for m, p, r in CASES]
)
def test_route_gives_each_role_what_the_table_says(
    world: World, method: str, path: str, role: str
) -> None:
    if role not in world.clients:
        pytest.skip("no assistant role exists yet (remote assistance, issue 8)")
    expected = ACCESS[(method, path)][role]
    status, location, body = _probe(world, role, method, path)
    said = f"{role} {method} {path} answered {status} {location}"
    if expected == OK:
        assert status < 400 or status in (400, 409), said
        assert not location.startswith("/auth/login"), said
    elif expected == LOGIN:
        assert status in (302, 303) and location.startswith("/auth/login"), said
    elif expected == DENY:
        assert status in (403, 404), said
        if role != "a":
            assert world.secret not in body and "李娜" not in body, f"{said}, with A's data"
    elif expected == UNSIGNED:
        assert status in (400, 401), said


ENTERPRISE_DRAFT = {**every(DENY), "anonymous": LOGIN, "agent_in": OK}


@pytest.mark.parametrize("role", [r for r in ROLES if r != "assistant"])
def test_the_enterprise_draft_is_for_agents_in_scope_only(world: World, role: str) -> None:
    path = f"/drafts/{world.enterprise_draft}"
    response = world.clients[role].get(path, follow_redirects=False)
    location = response.headers.get("location", "")
    said = f"{role} GET {path} answered {response.status_code} {location}"
    expected = ENTERPRISE_DRAFT[role]
    if expected == OK:
        assert response.status_code < 400 and not location.startswith("/auth/login"), said
    elif expected == LOGIN:
        assert location.startswith("/auth/login"), said
    else:
        assert response.status_code in (403, 404), said
