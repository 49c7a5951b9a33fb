"""How often the apply pages ask the e-license library, counted at the sandbox over real HTTP:
the materials page needs only the list, prefill only one full record per licence type its
form reads (the load run found every record fetched on every such page, docs/load.md)."""

from __future__ import annotations

import asyncio
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.applications import prefill_io
from portal.forms.applicability import applicable_items
from portal.forms.merged import merged_form
from portal.forms.prefill import license_types
from tests.applications.formdata import submit_page
from tests.applications.test_apply_flow import start_newborn
from tests.integrations.helpers import API_KEY, Sandbox

LI_NA = "410702199408270425"
LIST = f"/licenses/api/v1/holders/{LI_NA}/licenses"
GET = "/licenses/api/v1/licenses/"


def _library_calls(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(m, p) for m, p in sandbox.calls if p.startswith("/licenses/api/")]


def _usable(sandbox: Sandbox) -> list[dict[str, str]]:
    answer = httpx2.get(
        sandbox.url + LIST,
        params={"holder_type": "111"},
        headers={"authorization": f"Bearer {API_KEY}"},
    )
    today = date.today().isoformat()
    return [
        item
        for item in answer.json()
        if item["status"] == "valid" and (item["valid_until"] or today) >= today
    ]


def test_the_materials_page_lists_once_and_fetches_no_record(
    client: TestClient, sandbox: Sandbox
) -> None:
    base = start_newborn(client)
    sandbox.calls.clear()
    page = client.get(f"{base}/materials")
    assert page.status_code == 200
    assert "出生医学证明" in page.text  # the licences are offered
    assert _library_calls(sandbox) == [("GET", LIST)]


def test_prefill_fetches_one_record_per_type_its_form_reads(
    client: TestClient, sandbox: Sandbox, app: Starlette
) -> None:
    usable = _usable(sandbox)
    assert len(usable) > 4  # the demo mother holds more than the form reads
    thing = app.state.catalog.get("newborn")
    base = start_newborn(client)
    answers = dict(zip([s.key for s in thing.situations], ("yes", "no", "no"), strict=True))
    types = license_types(merged_form(thing, applicable_items(thing, answers)).fields)
    first: dict[str, str] = {}
    for item in usable:
        if item["type"] in types:
            first.setdefault(item["type"], item["id"])

    sandbox.calls.clear()
    assert submit_page(client, f"{base}/result").status_code == 303  # type: ignore[attr-defined]
    calls = _library_calls(sandbox)
    assert calls.count(("GET", LIST)) == 1
    fetched = sorted(path.removeprefix(GET) for _, path in calls if path.startswith(GET))
    assert fetched == sorted(first.values())
    assert "已从电子证照" in client.get(f"{base}/s/child").text


def test_one_request_lists_each_holder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    class Library:
        async def list_for_holder(self, code: str, code_type: str) -> list[Any]:
            asked.append(code)
            return []

    async def holders(request: Any, db: Any, actor: Any) -> list[tuple[str, str]]:
        return [(LI_NA, "111")]

    monkeypatch.setattr(prefill_io, "_holders", holders)
    monkeypatch.setattr(prefill_io.appstate, "license_library", lambda request: Library())
    request = SimpleNamespace(scope={})

    async def twice() -> None:
        await prefill_io.usable_summaries(request, object(), object())  # type: ignore[arg-type]
        await prefill_io.usable_summaries(request, object(), object())  # type: ignore[arg-type]

    asyncio.run(twice())
    assert asked == [LI_NA]


def test_the_holders_are_read_with_the_handlers_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session of its own held a second pool connection through each licence page."""
    read: list[object] = []

    class Library:
        async def list_for_holder(self, code: str, code_type: str) -> list[Any]:
            return []

    class Session:
        async def get(self, model: object, key: object) -> None:
            read.append(key)

    def second_session(request: Any) -> Any:
        pytest.fail("the wallet lookup opened a database session of its own")

    monkeypatch.setattr(prefill_io.appstate, "license_library", lambda request: Library())
    monkeypatch.setattr(prefill_io.appstate, "database", second_session)
    actor = SimpleNamespace(person_id=7, subject=SimpleNamespace(uscc=None))
    request = SimpleNamespace(scope={})
    assert asyncio.run(prefill_io.usable_summaries(request, Session(), actor)) == []  # type: ignore[arg-type]
    assert read == [7]
