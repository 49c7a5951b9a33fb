"""The database goes away around a submission's commit: the answer tells the truth about
whether the application was made (docs/faults.md)."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from portal.applications import services
from portal.web.sessions import SessionMiddleware
from tests.conftest import csrf_token_from
from tests.relay.live import fill_newborn


def _gone(*args: Any, **kwargs: Any) -> NoReturn:
    raise OperationalError("UPDATE sessions", {}, ConnectionRefusedError("server closed"))


async def _gone_async(*args: Any, **kwargs: Any) -> NoReturn:
    _gone()


def _submit(client: TestClient, base: str) -> Any:
    token = csrf_token_from(client.get(f"{base}/check").text)
    return client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)


def test_gone_after_the_commit_the_person_is_sent_to_the_application(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fill_newborn(client)
    # What follows the commit is the session's save as the answer starts: it fails.
    monkeypatch.setattr(SessionMiddleware, "_save", _gone_async)
    answer = _submit(client, base)
    monkeypatch.undo()

    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/applications/") and location.endswith("?submitted=1")
    page = client.get(location)
    assert page.status_code == 200 and "申请编号" in page.text
    again = _submit(client, base)  # the back button and submit again: the same application
    assert again.headers["location"] == location


def test_gone_before_the_commit_it_is_503_and_submitting_again_works(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fill_newborn(client)
    monkeypatch.setattr(services, "submit", _gone_async)
    answer = _submit(client, base)
    monkeypatch.undo()

    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    again = _submit(client, base)
    assert again.status_code == 303 and again.headers["location"].startswith("/applications/")
