"""The sandbox served by uvicorn on a loopback port, mounted at /sandbox inside a parent app
as the portal mounts it, and exercised over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from integrations.sandbox import create_sandbox_app
from tests.integrations.helpers import (
    WECHAT_APPID,
    WECHAT_SECRET,
    Sandbox,
    free_port,
    portal_client,
    serve,
)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/sandbox"
    app = create_sandbox_app(url, [portal_client()], WECHAT_APPID, WECHAT_SECRET)
    with serve(Starlette(routes=[Mount("/sandbox", app)]), port):
        yield Sandbox(url=url, app=app)


@pytest.fixture
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10) as client:
        yield client
