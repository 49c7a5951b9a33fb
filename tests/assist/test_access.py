"""Who may be in a session: a third user can neither open nor join one; the socket refuses a
cross-site Origin; an assistant never reaches a draft that was not shared with them."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from tests.assist.helpers import ORIGIN, ask, draft_of, newborn_draft, person, post, take


def _refused(client: TestClient, path: str, headers: dict[str, str]) -> None:
    with (
        pytest.raises((WebSocketDisconnect, WebSocketDenialResponse)),
        client.websocket_connect(path, headers=headers) as socket,
    ):
        socket.receive_json()


def test_a_third_user_cannot_join_or_read(app: Starlette) -> None:
    with (
        person(app) as citizen,
        person(app, "zheng-hong") as assistant,
        person(app, "huang-tao") as other_assistant,
        person(app, "zhang-wei") as stranger,
        person(app) as anonymous,
    ):
        draft = newborn_draft(citizen)
        session = ask(citizen, draft=draft)
        page = f"/assist/s/{session}"
        take(assistant, session)
        post(citizen, page, f"{page}/consent", {"draft": draft})
        post(assistant, page, f"{page}/chat", {"text": "您好，我是帮办员郑红"})

        for outsider in (stranger, other_assistant):
            assert outsider.get(page).status_code == 404
            assert outsider.get(f"{page}?part=draft").status_code == 404
            for action in ("chat", "propose", "consent", "consent/revoke", "end", "leave"):
                response = post(outsider, "/assist", f"{page}/{action}", {"text": "x"})
                assert response.status_code == 404, action
            _refused(outsider, f"/assist/ws/{session}", ORIGIN)
        assert anonymous.get(page, follow_redirects=False).status_code == 303  # sign in first
        _refused(anonymous, f"/assist/ws/{session}", ORIGIN)
        # The people in it do get in, but only from the portal's own pages.
        _refused(citizen, f"/assist/ws/{session}", {"origin": "https://evil.example"})
        _refused(citizen, f"/assist/ws/{session}", {})
        with assistant.websocket_connect(f"/assist/ws/{session}", headers=ORIGIN) as socket:
            assert socket.receive_json() == {
                "type": "ready",
                "role": "assistant",
                "status": "active",
            }
        assert "您好，我是帮办员郑红" not in stranger.get("/assist").text
        post(citizen, page, f"{page}/leave")


def test_an_assistant_cannot_open_a_draft_not_shared(app: Starlette) -> None:
    with person(app) as citizen, person(app, "zheng-hong") as assistant:
        draft = newborn_draft(citizen)
        session = ask(citizen)  # asked without sharing anything
        page = f"/assist/s/{session}"
        take(assistant, session)
        for path in (f"/drafts/{draft}", f"/drafts/{draft}/s/child", f"/drafts/{draft}/check"):
            assert assistant.get(path, follow_redirects=False).status_code == 404, path
        shown = assistant.get(page).text
        assert draft not in shown, shown[max(0, shown.find(draft) - 300) : shown.find(draft) + 50]
        assert "群众还没有共享申请表" in shown
        # Sharing another person's draft is impossible: the citizen can only name their own.
        with person(app) as other:
            other_draft = draft_of(other, "zhang-wei")
        refused = post(citizen, page, f"{page}/consent", {"draft": other_draft})
        assert refused.status_code == 400 and "请选择要共享的申请表" in refused.text
        assert "群众还没有共享申请表" in assistant.get(page).text
        # Once the call ends, a consent given during it no longer opens anything.
        post(citizen, page, f"{page}/consent", {"draft": draft})
        assert "群众共享的申请表" in assistant.get(page).text
        post(assistant, page, f"{page}/end", {"outcome": "helped"})
        assert "群众共享的申请表" not in assistant.get(page).text
        late = post(
            assistant, "/assist/console", f"{page}/propose", {"field": "child_name", "value": "x"}
        )
        assert late.status_code == 400 and "群众已停止共享表单" in late.text


def test_only_assistants_reach_the_console(app: Starlette) -> None:
    with person(app, "zhang-wei") as citizen, person(app, "zheng-hong") as assistant:
        assert citizen.get("/assist/console").status_code == 403
        assert assistant.get("/assist/console").status_code == 200
        assert post(citizen, "/assist", "/assist/console/take").status_code == 403
