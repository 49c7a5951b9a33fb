"""Two portal processes (two uvicorn servers, two apps, one PostgreSQL database, one Redis):
the citizen's socket is on one, the assistant's on the other; chat, signalling and "look
again" events cross between them through Redis pub/sub.

Runs when ``PORTAL_TEST_REDIS_URL`` is set (and is meant for PostgreSQL via
``PORTAL_TEST_DATABASE_URL``); see docs/assist.md.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from portal.app import create_app
from portal.db import make_engine, make_sessionmaker
from portal.settings import Settings
from tests.assist.seed import signed_in_pair
from tests.integrations.helpers import free_port, serve

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="PORTAL_TEST_REDIS_URL is not set")


def _setup(database_url: str) -> dict[str, str]:
    """A citizen and an assistant signed in (session rows, as sign-in leaves them) and an
    active session between them."""

    async def work() -> dict[str, str]:
        engine = make_engine(database_url, 0)
        async with make_sessionmaker(engine)() as db:
            tokens = await signed_in_pair(db, "test")
            await db.commit()
        await engine.dispose()
        return tokens

    return asyncio.run(work())


@pytest.fixture
def two_portals(settings: Settings) -> Iterator[list[str]]:
    urls = []
    with ExitStack() as stack:
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            app = create_app(
                Settings(**{**settings.__dict__, "base_url": url, "redis_url": REDIS_URL})
            )
            stack.enter_context(serve(app, port))
            urls.append(url)
        yield urls


def _socket(base: str, session: str, token: str) -> ClientConnection:
    return connect(
        f"{base.replace('http', 'ws')}/assist/ws/{session}",
        origin=base,  # type: ignore[arg-type]
        additional_headers={"cookie": f"session={token}"},
        open_timeout=10,
    )


def _next(socket: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        event: dict[str, Any] = json.loads(socket.recv(timeout=10))
        if event["type"] == kind:
            return event


def test_events_cross_between_two_portal_processes(
    two_portals: list[str], database_url: str
) -> None:
    first, second = two_portals
    ids = _setup(database_url)
    session = ids["session"]
    with (
        _socket(first, session, ids["citizen"]) as citizen,
        _socket(second, session, ids["assistant"]) as assistant,
    ):
        assert _next(citizen, "ready")["role"] == "citizen"
        assert _next(assistant, "ready")["role"] == "assistant"
        citizen.send(json.dumps({"type": "hello"}))
        assert _next(assistant, "hello")["from"] == "citizen"
        offer = {"description": {"type": "offer", "sdp": "v=0 (test)"}, "id": 1}
        assistant.send(json.dumps({"type": "signal", "data": offer}))
        assert _next(citizen, "signal")["data"] == offer
        assistant.send(json.dumps({"type": "chat", "text": "您好"}))
        assert _next(citizen, "chat")["text"] == "您好"
        assert _next(assistant, "chat")["text"] == "您好"  # both sides see the stored line
        citizen.send(json.dumps({"type": "chat", "text": "我需要帮助"}))
        assert _next(assistant, "chat")["text"] == "我需要帮助"
