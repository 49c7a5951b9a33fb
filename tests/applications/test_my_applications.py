""" "My applications", page by page: newest first, 20 a page, plain links (no JavaScript),
only what the actor may see (another person's never; an agent's scope kept), and a page
number that makes no sense answered in words, not with a 500."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import Enterprise
from portal import clock
from portal.applications import services
from portal.applications.models import Application
from tests.auth.helpers import sign_in
from tests.auth.test_agents import WU_LEI_ID, _as_enterprise, _grant, _post
from tests.ratings.helpers import person_id, stranger

NEXT = re.compile(r'rel="next" href="([^"]+)"')


def insert(
    client: TestClient,
    app: Starlette,
    marker: str,
    count: int,
    subject: tuple[str, int],
    **kw: object,
) -> list[str]:
    """``count`` applications numbered ``<marker>NNNN``, later ones newer (and newer than any
    other test's); returns their numbers, newest first."""

    async def run() -> None:
        async with app.state.sessionmaker() as db:
            base = clock.now() + timedelta(days=1)
            for n in range(count):
                db.add(
                    Application(
                        public_id=services.new_public_id(),
                        draft_public_id=services.new_public_id(),
                        thing_code=str(kw.get("thing_code", "newborn")),
                        subject_kind=subject[0],
                        subject_id=subject[1],
                        operator_id=int(kw.get("operator_id", subject[1])),  # type: ignore[call-overload]
                        submission_number=f"{marker}{n:04d}",
                        answers={},
                        values={},
                        materials={},
                        figures={},
                        status="submitted",
                        submitted_at=base + timedelta(minutes=n),
                        sequence=-1,
                        relay_status="relayed",
                    )
                )
            await db.commit()

    client.portal.call(run)  # type: ignore[union-attr]
    return [f"{marker}{n:04d}" for n in reversed(range(count))]


def pages(client: TestClient, first: str = "/applications") -> list[str]:
    """Every page's HTML, following the rel=next links as a browser without JavaScript would."""
    found, url = [], first
    while url:
        page = client.get(url)
        assert page.status_code == 200, url
        found.append(page.text)
        following = NEXT.search(page.text)
        url = following.group(1).replace("&amp;", "&") if following else ""
        assert len(found) < 100
    return found


def shown(html: str, marker: str) -> list[str]:
    return re.findall(rf"{marker}\d{{4}}", html)


def test_pages_hold_twenty_newest_first_and_never_anothers(
    client: TestClient, app: Starlette
) -> None:
    sign_in(client, "li-na", "L3")
    me, other = person_id(client, app, "li-na"), stranger(client, app)
    mine, theirs = "M" + secrets.token_hex(3).upper(), "T" + secrets.token_hex(3).upper()
    expected = insert(client, app, mine, 45, ("person", me))
    insert(client, app, theirs, 25, ("person", other))
    insert(
        client, app, theirs + "X", 3, ("person", me), operator_id=other
    )  # someone else filed them

    html = pages(client)
    assert shown(html[0], mine) == expected[:20]
    assert shown(html[1], mine) == expected[20:40]
    assert [n for page in html for n in shown(page, mine)] == expected
    assert not any(shown(page, theirs) or shown(page, theirs + "X") for page in html)
    assert "填写中" in html[0] and "填写中" not in html[1]  # drafts on the first page only
    assert f"第 2 页，共 {len(html)} 页" in html[1] and 'rel="prev" href="/applications"' in html[1]
    assert 'rel="next"' not in html[-1]


def test_a_page_that_makes_no_sense_is_answered_in_words(client: TestClient) -> None:
    sign_in(client, "li-na", "L3")
    for bad in ("abc", "0", "-1", "1e3", "1.5", "", "9999999", "²"):
        response = client.get("/applications", params={"page": bad})
        assert response.status_code == 400, bad
        assert (
            "页码不对：请从第 1 页看起。" in response.text
            and 'href="/applications"' in response.text
        )
    missing = client.get("/applications?page=999999")
    assert missing.status_code == 404 and "没有这一页" in missing.text
    english = client.get("/applications?page=abc&lang=en")
    assert english.status_code == 400 and "start from page 1" in english.text


def test_every_locale_and_elder_mode(client: TestClient, app: Starlette) -> None:
    sign_in(client, "li-na", "L3")
    insert(
        client,
        app,
        "E" + secrets.token_hex(3).upper(),
        21,
        ("person", person_id(client, app, "li-na")),
    )
    client.cookies.set("elder", "1")
    for lang, words in (
        ("zh_Hans", "较早的申请"),
        ("zh_Hant", "較早的申請"),
        ("en", "Older applications"),
        ("ug", "كونىراق ئىلتىماسلار"),
    ):
        page = client.get(f"/applications?lang={lang}")
        assert page.status_code == 200 and 'class="pagination"' in page.text, lang
        assert 'class="elder ' in page.text, lang
        assert 'rel="next" href="/applications?page=2"' in page.text, lang
        assert words in page.text, lang


def test_an_agent_sees_only_the_one_things_in_scope(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as legal,
        TestClient(app, base_url="http://testserver") as agent,
    ):
        sign_in(legal, "sun-li", "L4")
        _as_enterprise(legal)
        assert (
            _grant(legal, agent_id_number=WU_LEI_ID, thing_codes=["restaurant"]).status_code == 303
        )  # type: ignore[attr-defined]
        sign_in(agent, "wu-lei", "L4")
        accept = re.findall(r'action="/agents/(\d+)/accept"', agent.get("/profile").text)
        assert accept, "wu-lei has no authorisation to accept"
        assert _post(agent, f"/agents/{accept[-1]}/accept").status_code == 303  # type: ignore[attr-defined]
        _as_enterprise(agent)

        async def enterprise_id() -> int:
            async with app.state.sessionmaker() as db:
                found = await db.scalar(
                    select(Enterprise.id).where(Enterprise.name.contains("好味道"))
                )
                assert found is not None
                return int(found)

        company = agent.portal.call(enterprise_id)  # type: ignore[union-attr]
        legal_id = person_id(legal, app, "sun-li")
        marker_in, marker_out = (
            "R" + secrets.token_hex(3).upper(),
            "C" + secrets.token_hex(3).upper(),
        )
        kept = insert(
            agent,
            app,
            marker_in,
            3,
            ("enterprise", company),
            operator_id=legal_id,
            thing_code="restaurant",
        )
        insert(
            agent,
            app,
            marker_out,
            3,
            ("enterprise", company),
            operator_id=legal_id,
            thing_code="credit-repair",
        )

        as_agent = pages(agent)
        assert shown(as_agent[0], marker_in) == kept
        assert not any(shown(page, marker_out) for page in as_agent)
        as_legal = pages(legal)  # the legal representative handles every one-thing
        assert any(shown(page, marker_out) for page in as_legal)
        # The database outlives this test: the authorisation ends with it.
        ended = _post(legal, f"/agents/{accept[-1]}/end", page="/enterprise/agents")
        assert ended.status_code == 303  # type: ignore[attr-defined]
