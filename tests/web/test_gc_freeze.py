"""portal serve's workers freeze what start-up made, once it has finished, and nothing else
changes: requests pass through untouched."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from portal.web.gc_freeze import FreezeAfterStartup


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process must collect what it made, as before


def test_start_up_is_frozen_once_it_completes_and_requests_pass_through(unfrozen: None) -> None:
    seen_while_starting: list[int] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        seen_while_starting.append(gc.get_freeze_count())
        yield

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("页面")

    app = FreezeAfterStartup(Starlette(routes=[Route("/", page)], lifespan=lifespan))
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert seen_while_starting == [0]  # nothing frozen before start-up is done
        assert gc.get_freeze_count() > 1000  # the modules and everything else alive
        answer = client.get("/")
    assert (answer.status_code, answer.text) == (200, "页面")


def test_the_served_app_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    from portal import server

    made = Starlette()
    monkeypatch.setattr(server, "create_app", lambda: made)
    served = server.app_factory()
    assert isinstance(served, FreezeAfterStartup) and served.app is made
