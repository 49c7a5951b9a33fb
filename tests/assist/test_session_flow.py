"""A whole assisted session over HTTP and the WebSocket: queue, take, consent, a proposal
accepted into the draft, direct entry under 代办 consent, revocation, summary, rating."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from starlette.applications import Starlette

from portal.applications.models import Draft
from portal.assist.models import DraftChange
from portal.db import make_engine, make_sessionmaker
from tests.applications.formdata import submit_page
from tests.assist.helpers import ORIGIN, ask, newborn_draft, person, post, take


def _draft(database_url: str, public_id: str) -> Draft:
    async def read() -> Draft:
        engine = make_engine(database_url, 0)
        async with make_sessionmaker(engine)() as db:
            draft = await db.scalar(select(Draft).where(Draft.public_id == public_id))
        await engine.dispose()
        assert draft is not None
        return draft

    return asyncio.run(read())


def _trail(database_url: str, public_id: str) -> list[tuple[str, str, str | None]]:
    async def read() -> list[tuple[str, str, str | None]]:
        engine = make_engine(database_url, 0)
        async with make_sessionmaker(engine)() as db:
            rows = await db.execute(
                select(DraftChange)
                .where(DraftChange.draft_public_id == public_id)
                .order_by(DraftChange.id)
            )
            found = [(c.role, c.action, c.field_key) for c in rows.scalars()]
        await engine.dispose()
        return found

    return asyncio.run(read())


def test_co_filling_from_queue_to_summary(app: Starlette, database_url: str) -> None:
    with person(app) as citizen, person(app, "zheng-hong") as assistant:
        draft = newborn_draft(citizen)
        session = ask(citizen, draft=draft)
        page = f"/assist/s/{session}"
        waiting = citizen.get(page)
        assert waiting.status_code == 200 and "预计等待约" in waiting.text
        assert assistant.get(page).status_code == 404  # not taken yet: not theirs

        with citizen.websocket_connect(f"/assist/ws/{session}", headers=ORIGIN) as socket:
            assert socket.receive_json()["type"] == "ready"
            assert take(assistant).headers["location"] == page
            assert socket.receive_json()["type"] in ("taken", "queue")

        # Nothing shared yet: the assistant sees no draft and cannot propose.
        assert "群众还没有共享申请表" in assistant.get(page).text
        refused = post(
            assistant, page, f"{page}/propose", {"field": "child_name", "value": "张小明"}
        )
        assert refused.status_code == 400 and "群众已停止共享表单" in refused.text

        assert post(citizen, page, f"{page}/consent", {"draft": draft}).status_code == 303
        shown = assistant.get(page).text
        assert "群众共享的申请表" in shown and "propose-field" in shown

        bad = post(
            assistant, page, f"{page}/propose", {"field": "child_birth_date", "value": "明天"}
        )
        assert bad.status_code == 400 and "请填写正确的日期" in bad.text
        assert 'value="明天"' in bad.text  # what was typed is kept
        post(assistant, page, f"{page}/propose", {"field": "child_name", "value": "张小明"})
        citizen_page = citizen.get(page).text
        assert "张小明" in citizen_page
        proposal = citizen_page.split(f"{page}/proposals/")[1].split('"')[0]
        accepted = post(citizen, page, f"{page}/proposals/{proposal}", {"decision": "accept"})
        assert accepted.status_code == 303
        assert _draft(database_url, draft).values["child_name"] == "张小明"
        # What the citizen types meanwhile is theirs in the trail.
        section = f"/drafts/{draft}/s/child"
        submit_page(citizen, section, {"f.child_ethnicity": "汉族", "action": "save"})

        # Without 代办 consent a direct entry is refused; with it, it lands at once.
        direct = {"field": "child_birth_place", "value": "新乡市中心医院", "direct": "yes"}
        not_direct = post(assistant, page, f"{page}/propose", direct)
        assert not_direct.status_code == 400 and "群众没有同意代办" in not_direct.text
        post(citizen, page, f"{page}/consent", {"draft": draft, "direct": "yes"})
        post(assistant, page, f"{page}/propose", direct)
        assert _draft(database_url, draft).values["child_birth_place"] == "新乡市中心医院"
        id_number = {"field": "applicant_id_number", "value": "410702199408270425", "direct": "yes"}
        post(assistant, page, f"{page}/propose", id_number)
        seen = assistant.get(page).text
        assert "410***********0425" in seen and "410702199408270425" not in seen  # masked

        post(citizen, page, f"{page}/consent/revoke")
        assert "群众还没有共享申请表" in assistant.get(page).text
        again = post(assistant, page, f"{page}/propose", direct)
        assert again.status_code == 400 and "群众已停止共享表单" in again.text

        ended = post(
            assistant,
            page,
            f"{page}/end",
            {
                "outcome": "helped",
                "summary": "帮您填好了孩子的信息",
                "next_steps": "上传出生医学证明",
            },
        )
        assert ended.status_code == 303
        summary = citizen.get(page).text
        assert "帮您填好了孩子的信息" in summary and "上传出生医学证明" in summary
        assert "评价这次帮办服务" in summary
        rated = post(citizen, f"{page}/rate", f"{page}/rate", {"score": "5"})
        assert rated.status_code == 303

    assert _trail(database_url, draft) == [
        ("citizen", "consent_view", None),
        ("assistant", "proposed", "child_name"),
        ("citizen", "accepted", "child_name"),
        ("citizen", "typed", "child_ethnicity"),
        ("citizen", "consent_direct", None),
        ("assistant", "entered", "child_birth_place"),
        ("assistant", "entered", "applicant_id_number"),
        ("citizen", "consent_revoked", None),
    ]


def test_panels_swap_alone_and_the_socket_follows_the_call(app: Starlette) -> None:
    from starlette.websockets import WebSocketDisconnect

    from tests.conftest import csrf_token_from

    with person(app) as citizen, person(app, "huang-tao") as assistant:
        draft = newborn_draft(citizen)
        session = ask(citizen)
        page = f"/assist/s/{session}"
        take(assistant, session)
        htmx = {"hx-request": "true", "x-csrf-token": csrf_token_from(citizen.get(page).text)}
        shared = citizen.post(f"{page}/consent", data={"draft": draft}, headers=htmx)
        assert shared.status_code == 200 and shared.text.startswith('<section id="consent"')
        panel = assistant.get(f"{page}?part=draft", headers={"hx-request": "true"})
        assert panel.text.startswith('<section id="draft"') and "<html" not in panel.text

        with (
            citizen.websocket_connect(f"/assist/ws/{session}", headers=ORIGIN) as mine,
            assistant.websocket_connect(f"/assist/ws/{session}", headers=ORIGIN) as theirs,
        ):
            assert mine.receive_json()["type"] == theirs.receive_json()["type"] == "ready"
            mine.send_json({"type": "chat", "text": "  "})
            assert mine.receive_json() == {"type": "error", "code": "chat_empty"}
            mine.send_json({"type": "chat", "text": "能听到吗"})
            assert theirs.receive_json()["text"] == mine.receive_json()["text"] == "能听到吗"
            mine.send_json({"type": "signal", "data": {"id": 1, "candidate": {"candidate": ""}}})
            relayed = theirs.receive_json()
            assert relayed["type"] == "signal" and relayed["from"] == "citizen"
            post(assistant, page, f"{page}/propose", {"field": "child_name", "value": "李小红"})
            assert mine.receive_json() == {"type": "refresh", "parts": ["proposals", "draft"]}
            assert theirs.receive_json()["parts"] == ["proposals", "draft"]
            post(citizen, page, f"{page}/consent/revoke")
            assert theirs.receive_json()["parts"] == ["draft", "consent", "proposals"]
            assert mine.receive_json()["parts"] == ["draft", "consent", "proposals"]
            post(assistant, page, f"{page}/end", {"outcome": "unresolved"})
            assert mine.receive_json()["type"] == "ended"
            try:
                mine.receive_json()
                raise AssertionError("the socket stayed open after the call ended")
            except WebSocketDisconnect as closed:
                assert closed.code == 4410
        assert "帮办小结" in citizen.get(page).text
