"""A process with its limit of requests in flight answers the next one 503 at once, in the
person's language with Retry-After, and serves again as soon as one finishes; health, metrics
and static files are never shed."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import httpx2
from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings
from portal.templating import static_url


def _portal(settings: Settings, limit: int) -> Starlette:
    return create_app(Settings(**{**settings.__dict__, "max_requests_in_flight": limit}))


async def _while_one_is_in_flight(app: Starlette, *paths: str) -> list[httpx2.Response]:
    """GETs ``paths`` while a POST whose body has not finished arriving holds one place."""
    arrived, finish = asyncio.Event(), asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"q=1"
        arrived.set()
        await finish.wait()

    transport = httpx2.ASGITransport(app=app)
    # With a CSRF cookie and no token header, the CSRF check reads the whole body.
    cookies = {"csrftoken": base64.urlsafe_b64encode(b"c" * 32).decode().rstrip("=")}
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as http:
        holding = asyncio.create_task(http.post("/search", content=slow_body(), headers=form))
        await asyncio.wait_for(arrived.wait(), 5)
        answers = [
            await http.get(path, headers={"accept-language": "en"}, timeout=5) for path in paths
        ]
        finish.set()
        await holding
        answers.append(await http.get("/", headers={"accept-language": "en"}))
    return answers


def test_the_request_past_the_limit_is_answered_503_at_once_in_the_persons_language(
    settings: Settings,
) -> None:
    app = _portal(settings, limit=1)
    stylesheet = static_url("css/portal.css")
    shed, health, metrics, css, after = asyncio.run(
        _while_one_is_in_flight(app, "/", "/healthz", "/metrics", stylesheet)
    )
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "5"
    assert "Many people are using the service right now" in shed.text
    assert "go back to the previous page and submit it again" in shed.text
    assert health.status_code == metrics.status_code == css.status_code == 200
    assert "portal_http_requests_shed_total 1.0" in metrics.text
    assert after.status_code == 200  # the place is free again


def test_without_a_limit_nothing_is_shed(settings: Settings) -> None:
    app = _portal(settings, limit=0)
    home, after = asyncio.run(_while_one_is_in_flight(app, "/"))
    assert home.status_code == after.status_code == 200
