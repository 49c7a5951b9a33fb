"""What the app opens for its lifetime and closes with it."""

from __future__ import annotations

import asyncio

import httpx2
from starlette.requests import Request
from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings
from portal.web import appstate


def test_the_license_library_keeps_one_client_while_the_app_runs(settings: Settings) -> None:
    app = create_app(settings)
    request = Request({"type": "http", "app": app})

    async def library_client() -> object:
        return appstate.license_library(request)._http

    with TestClient(app) as client:
        http = app.state.licenses_http
        assert isinstance(http, httpx2.AsyncClient) and not http.is_closed
        assert client.portal.call(library_client) is http  # type: ignore[union-attr]
        assert asyncio.run(library_client()) is None  # another loop: a one-off client
    assert http.is_closed
    assert app.state.licenses_http is None
