"""The wallet lookup behind prefill and 免提交: a library that cannot answer means no licences
(the person uploads instead); a database that cannot answer fails the request (503), never a
draft quietly without its licences (found by the load run, docs/load.md)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from integrations.licenses import LicenseLibraryError
from portal.applications import prefill_io
from portal.db_errors import database_unavailable


class DownLibrary:
    async def list_for_holder(self, code: str, code_type: str) -> list[Any]:
        raise LicenseLibraryError(None, "unreachable", "connection refused")


def test_an_unreachable_library_means_no_licences(monkeypatch: pytest.MonkeyPatch) -> None:
    async def holders(request: Any, db: Any, actor: Any) -> list[tuple[str, str]]:
        return [("110101199003071234", "111")]

    monkeypatch.setattr(prefill_io, "_holders", holders)
    monkeypatch.setattr(prefill_io.appstate, "license_library", lambda request: DownLibrary())

    request = SimpleNamespace(scope={})
    assert asyncio.run(prefill_io.usable_summaries(request, object(), object())) == []  # type: ignore[arg-type]
    assert (
        asyncio.run(prefill_io.wallet(request, object(), object(), {"birth_medical_certificate"}))
        == []
    )  # type: ignore[arg-type]


def test_a_database_that_cannot_answer_fails_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    async def holders(request: Any, db: Any, actor: Any) -> list[tuple[str, str]]:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    monkeypatch.setattr(prefill_io, "_holders", holders)
    monkeypatch.setattr(prefill_io.appstate, "license_library", lambda request: DownLibrary())

    with pytest.raises(PoolTimeout) as raised:
        asyncio.run(prefill_io.usable_summaries(SimpleNamespace(scope={}), object(), object()))  # type: ignore[arg-type]
    assert database_unavailable(raised.value)  # answered 503 "try again later"
