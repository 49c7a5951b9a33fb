"""Every registered route × every kind of caller: each gets what the table says, nothing else.

ACCESS declares, per route and method, the outcome for each role. The objects in the URL
(draft, upload, application, profile entry, authorisation, license, grant of use, rating,
assistance booking and session) belong to person A; everyone else must get 403 or 404 and
none of A's data. The agents act for the enterprise 好味道: agent_in is authorised for the
restaurant one-thing, agent_out for another one. The assistant (帮办员) took A's assistance
session, so is in it, and in nothing else of A's; assistant_out, another assistant, is in
none of A's. A route that is not in the table fails the test: whoever adds a route
classifies it here. The WebSocket route is "WS": probed by connecting from the portal's own
origin, "ok" when the socket is accepted, "deny" when it is closed before the handshake.

Unsafe requests (POST…) carry a valid CSRF token, so the guard under test is the route's own,
not the CSRF check. Where a probe would change the owner's own state for good (withdraw,
delete), the owner is not probed (``SKIP``): the area's tests cover what the owner can do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from auth.models import AgentAuthorization
from portal import clock
from portal.applications.package import file_token
from portal.assist.live import FORBIDDEN, NOT_FOUND
from tests.applications.formdata import photo, submit_page
from tests.applications.test_apply_flow import _to_materials
from tests.assist.helpers import ORIGIN
from tests.assist.helpers import ask as ask_for_help
from tests.assist.helpers import post as post_form
from tests.assist.helpers import take as take_session
from tests.auth.helpers import sign_in
from tests.auth.test_agents import _as_enterprise, _grant, _post
from tests.conftest import csrf_token_from
from tests.ratings.helpers import application as concluded_application
from tests.ratings.helpers import person_id, ratings_of
from tests.relay.live import apply_newborn
from tests.wallet.helpers import verify_path

ROLES = ("anonymous", "a", "b", "agent_in", "agent_out", "assistant", "assistant_out")

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


def in_session(a: str = OK, assistant: str = OK) -> dict[str, str]:
    """A's assistance session in the URL: A and the assistant who took it."""
    return {**owner_only(a), "assistant": assistant}


def assistant_only() -> dict[str, str]:
    return {**every(DENY), "anonymous": LOGIN, "assistant": OK, "assistant_out": OK}


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
    # 好差评: A's own (concluded) application, A's rating of it; the figures are public.
    ("GET", "/applications/{application:str}/rate"): owner_only(),  # rated already: 303
    ("POST", "/applications/{application:str}/rate"): owner_only(),
    ("GET", "/applications/{application:str}/items/{item:str}/rate"): owner_only(),
    ("POST", "/applications/{application:str}/items/{item:str}/rate"): owner_only(),  # 400
    ("GET", "/applications/{application:str}/ratings/{rating:str}/rectification"): owner_only(),
    ("POST", "/applications/{application:str}/ratings/{rating:str}/rectification"): owner_only(),
    ("GET", "/ratings"): every(OK),
    ("GET", "/ratings/things/{code:str}"): every(OK),
    ("GET", "/ratings/departments/{key:str}"): every(OK),
    # The wallet: A's social security card, A's grant of use. B, the spouse, sees neither.
    ("GET", "/wallet"): signed_in(),
    ("GET", "/wallet/licenses/{license_id:str}"): owner_only(),
    ("POST", "/wallet/licenses/{license_id:str}/disclose"): owner_only(),
    ("POST", "/wallet/licenses/{license_id:str}/stop"): owner_only(SKIP),  # ends A's codes
    ("GET", "/wallet/licenses/{license_id:str}/image"): owner_only(),
    ("GET", "/wallet/licenses/{license_id:str}/card.png"): owner_only(),
    ("GET", "/wallet/licenses/{license_id:str}/grant"): owner_only(),
    ("POST", "/wallet/licenses/{license_id:str}/grant"): owner_only(),  # empty form: 400
    ("GET", "/wallet/grants"): signed_in(),
    ("GET", "/wallet/grants/{grant_id:int}"): owner_only(),
    ("POST", "/wallet/grants/{grant_id:int}/revoke"): owner_only(SKIP),
    ("GET", "/wallet/log"): signed_in(),
    # Capability URLs: whoever scanned A's code, the organisation A granted use to.
    ("GET", "/verify/{token:str}"): every(OK),
    ("GET", "/use/{token:str}"): every(OK),
    ("GET", "/use/{token:str}/{index:int}/copy.pdf"): every(OK),
    ("GET", "/use/{token:str}/{index:int}/copy.png"): every(OK),
    # 远程帮办: asking and booking are about the caller; A's booking; A's session.
    ("GET", "/assist"): signed_in(),
    ("POST", "/assist/ask"): signed_in(),  # no one-thing chosen: back to /assist, 303
    ("GET", "/assist/book"): signed_in(),
    ("POST", "/assist/book"): signed_in(),
    ("GET", "/assist/bookings/{booking:str}/change"): owner_only(),
    ("POST", "/assist/bookings/{booking:str}/change"): owner_only(),  # no slot: 409
    ("POST", "/assist/bookings/{booking:str}/cancel"): owner_only(SKIP),
    ("POST", "/assist/bookings/{booking:str}/join"): owner_only(),  # not open yet: 303
    ("GET", "/assist/console"): assistant_only(),
    ("POST", "/assist/console/take"): assistant_only(),  # nobody (else) waiting: 303
    ("GET", "/assist/s/{session:str}"): in_session(),
    ("POST", "/assist/s/{session:str}/chat"): in_session(),  # nothing typed: 400
    ("POST", "/assist/s/{session:str}/leave"): in_session(SKIP, DENY),
    ("POST", "/assist/s/{session:str}/consent"): in_session(OK, DENY),  # no draft: 400
    ("POST", "/assist/s/{session:str}/consent/revoke"): in_session(OK, DENY),
    ("POST", "/assist/s/{session:str}/proposals/{proposal:str}"): in_session(OK, DENY),
    ("POST", "/assist/s/{session:str}/callback"): in_session(OK, DENY),
    ("GET", "/assist/s/{session:str}/rate"): in_session(OK, DENY),  # A's ended session
    ("POST", "/assist/s/{session:str}/rate"): in_session(OK, DENY),  # no score: 400
    ("POST", "/assist/s/{session:str}/propose"): in_session(DENY, OK),  # nothing shared: 400
    ("POST", "/assist/s/{session:str}/notes"): in_session(DENY, OK),
    ("POST", "/assist/s/{session:str}/end"): in_session(DENY, SKIP),
    # The call's socket: anyone not in the session is closed before the handshake (4403/
    # 4404), the anonymous included, since a socket cannot be sent to sign in. A cross-site
    # or missing Origin is refused even to A: tests/assist/test_access.py.
    ("WS", "/assist/ws/{session:str}"): {**in_session(), "anonymous": DENY},
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
        elif isinstance(route, WebSocketRoute):
            found.append(("WS", route.path))
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
    # Where one name means another object: (start of the route's path, name) → value.
    overrides: dict[tuple[str, str], str]
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
        # Not zheng-hong: she is an assistant (帮办员) now, and the roles must stay distinct.
        grant_out = _authorise(app, legal, clients["agent_out"], "zhou-jie", "credit-repair")
        enterprise_draft = _draft_of(
            submit_page(legal, "/things/restaurant/apply").headers["location"]
        )
        sign_in(clients["b"], "zhang-wei", "L3")
        sign_in(clients["assistant"], "huang-tao", "L3")
        sign_in(clients["assistant_out"], "zheng-hong", "L3")
        rated, rating = _rated_application(app, a)
        use_grant, use_link = _grant_of_use(a)
        verify = verify_path(a.get(f"/wallet/licenses/{LICENSE}").text)
        booking = _booking(a)
        ended = _session_taken(a, clients["assistant"])
        post_form(clients["assistant"], f"/assist/s/{ended}", f"/assist/s/{ended}/end", OUTCOME)
        session = _session_taken(a, clients["assistant"])

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
            "item": "birth_certificate",
            "rating": rating,
            "key": "health",
            "license_id": LICENSE,
            "index": "0",
            "booking": booking,
            "session": session,
            "proposal": "0",
        }
        overrides = {
            ("/applications/{application:str}/rate", "application"): rated,
            ("/applications/{application:str}/items/", "application"): rated,
            ("/applications/{application:str}/ratings/", "application"): rated,
            ("/wallet/grants/", "grant_id"): use_grant,
            ("/verify/", "token"): verify.rsplit("/", 1)[1],
            ("/use/", "token"): use_link.rsplit("/", 1)[1],
            ("/assist/s/{session:str}/rate", "session"): ended,
        }
        yield World(clients, params, overrides, "13812345678", enterprise_draft)
        # The database outlives this module: what A left open would be found by the next
        # module's A (asking again gives the open session back, with this module's assistant
        # in it), so the session is ended and the booking cancelled.
        here = f"/assist/s/{session}"
        ending = post_form(clients["assistant"], here, f"{here}/end", OUTCOME)
        assert ending.status_code == 303, ending.text
        cancelled = post_form(a, "/assist", f"/assist/bookings/{booking}/cancel")
        assert cancelled.status_code == 303, cancelled.text
        for made in (grant, grant_out):  # or the agents still act for 好味道 (test_agents)
            ended = post_form(legal, "/enterprise/agents", f"/agents/{made}/end")
            assert ended.status_code == 303, ended.text


LICENSE = "lic-li-na-social-security-card"
OUTCOME = {"outcome": "helped", "summary": "", "next_steps": ""}


def _rated_application(app: Starlette, a: TestClient) -> tuple[str, str]:
    """A concluded application of A's, rated badly by A: (its id, the rating's id)."""
    public_id = concluded_application(a, app, person_id(a, app, "li-na"))
    path = f"/applications/{public_id}/rate"
    answer = post_form(a, path, path, {"level": "1", "reasons": "slow", "comment": "太慢"})
    assert answer.status_code == 303, answer.text
    [rating] = ratings_of(a, app, public_id)
    return public_id, rating.public_id


def _grant_of_use(a: TestClient) -> tuple[str, str]:
    """A grants a bank the use of A's card: (the grant's id, the bank's link)."""
    page = f"/wallet/licenses/{LICENSE}/grant"
    data = {
        "org_name": "中国建设银行新乡分行",
        "org_uscc": "91410700MA45RT3K8A",
        "reason": "办理信用卡",
        "valid_until": (clock.china(clock.now()).date() + timedelta(days=30)).isoformat(),
        "license_ids": [LICENSE],
    }
    response = post_form(a, page, page, data)
    assert response.status_code == 303, response.text
    grant_path = response.headers["location"]
    link = re.search(r'href="http://testserver(/use/[A-Za-z0-9_\-]+)"', a.get(grant_path).text)
    assert link, "the grant shows no link"
    return grant_path.rsplit("/", 1)[1], link.group(1)


def _booking(a: TestClient) -> str:
    """A's booked slot for the newborn one-thing (booked earlier in the run, or now)."""
    slots = re.findall(
        r'name="slot" value="(\d+)"(?! disabled)', a.get("/assist/book?thing=newborn").text
    )
    post_form(a, "/assist", "/assist/book", {"thing": "newborn", "slot": slots[0]})
    found = re.findall(r"/assist/bookings/([\w-]+)/change", a.get("/assist").text)
    assert found, "A has no booking"
    return found[0]


def _session_taken(a: TestClient, assistant: TestClient) -> str:
    """A asks for help and the assistant takes A; a session A left open earlier in the run
    (another assistant's, say) is left first."""
    for _ in range(2):
        session = ask_for_help(a)
        if take_session(assistant, session).headers["location"] == f"/assist/s/{session}":
            return session
        post_form(a, f"/assist/s/{session}", f"/assist/s/{session}/leave")
    raise AssertionError("the assistant could not take A's session")


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


def _fill(path: str, world: World) -> str:
    params = {**world.params}
    params |= {name: v for (start, name), v in world.overrides.items() if path.startswith(start)}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: params[m.group(1)], path)


def _knock(client: TestClient, url: str) -> tuple[int, str, str]:
    """A socket from the portal's own pages: 101 and the first message when accepted, else
    the close code as the HTTP status it stands for."""
    try:
        with client.websocket_connect(url, headers=ORIGIN) as socket:
            return 101, "", json.dumps(socket.receive_json(), ensure_ascii=False)
    except WebSocketDenialResponse as denied:
        return denied.status_code, "", denied.text
    except WebSocketDisconnect as closed:
        return {FORBIDDEN: 403, NOT_FOUND: 404}.get(closed.code, closed.code), "", ""


def _probe(world: World, role: str, method: str, path: str) -> tuple[int, str, str]:
    client = world.clients[role]
    url = _fill(path, world)
    if method == "WS":
        return _knock(client, url)
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


@pytest.mark.parametrize("role", ROLES)
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
