"""Rate limits hold across processes: two app instances on one database (or one Redis) share
the count, as N portal processes behind a load balancer do."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings
from portal.web.ratelimit import Rule
from tests.conftest import csrf_token_from

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/4")


def _redis_reachable() -> bool:
    from redis.asyncio import Redis

    async def ping() -> bool:
        client = Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
        try:
            return bool(await client.ping())
        except OSError:
            return False
        finally:
            await client.aclose()

    try:
        return asyncio.run(ping())
    except Exception:
        return False


@pytest.fixture(params=["database", "redis"])
def pair(request: pytest.FixtureRequest, settings: Settings) -> Iterator[list[TestClient]]:
    """Two portal instances that share only what real processes share."""
    if request.param == "redis" and not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    shared = replace(
        settings,
        # A fresh key per test: counts of other tests (same client address) do not leak in.
        secret_key=secrets.token_hex(16),
        sign_in_rate_limit="4/600",
        lookup_rate_limit="3/600",
        redis_url=REDIS_URL if request.param == "redis" else "",
    )
    apps: list[Starlette] = [create_app(shared), create_app(shared)]
    with TestClient(apps[0]) as first, TestClient(apps[1]) as second:
        yield [first, second]


def _track(client: TestClient) -> int:
    token = csrf_token_from(client.get("/track").text)
    response = client.post("/track", data={"csrf_token": token, "number": "YJS1", "tail": "123456"})
    return response.status_code


def test_lookups_are_counted_across_instances(pair: list[TestClient]) -> None:
    first, second = pair
    assert [_track(first), _track(second), _track(first)] == [404, 404, 404]
    token = csrf_token_from(second.get("/track").text)
    refused = second.post("/track", data={"csrf_token": token, "number": "YJS1", "tail": "123456"})
    assert refused.status_code == 429
    assert "查询次数过多" in refused.text
    assert 'value="YJS1"' in refused.text  # what was typed is kept


def test_sign_in_starts_are_counted_across_instances(pair: list[TestClient]) -> None:
    first, second = pair
    started = [c.get("/auth/login", follow_redirects=False) for c in (first, second) * 2]
    assert [r.status_code for r in started] == [302] * 4
    refused = first.get("/auth/login?lang=en", follow_redirects=False)
    assert refused.status_code == 429
    assert "Too many sign-ins" in refused.text


def test_a_limit_is_tries_per_seconds() -> None:
    assert Rule.parse("10/600") == Rule(10, 600)
    for bad in ("10", "ten/600", "0/600", "5/0", ""):
        with pytest.raises(ValueError, match="TRIES/SECONDS"):
            Rule.parse(bad)


def test_an_unreachable_store_lets_people_through(settings: Settings) -> None:
    from tests.integrations.helpers import free_port

    down = replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/4")
    with TestClient(create_app(down)) as client:
        assert client.get("/auth/login", follow_redirects=False).status_code == 302
