"""Shared fixtures: a real throwaway database (SQLite, or PostgreSQL when
PORTAL_TEST_DATABASE_URL is set), migrated with Alembic, and the app on top of it."""

from __future__ import annotations

import asyncio
import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from integrations.sandbox import SandboxClient, create_sandbox_app
from portal.app import create_app
from portal.db import make_engine
from portal.db_migrate import upgrade
from portal.settings import Settings
from tests.integrations.helpers import Recorder, Sandbox, free_port, serve

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def _reset_postgres(url: str) -> None:
    async def reset() -> None:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        path = tmp_path_factory.mktemp("db") / "portal-test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


PORTAL_CLIENT = SandboxClient(
    client_id="portal-test",
    client_secret="portal-test-secret",
    redirect_uris=["http://testserver/auth/callback"],
    post_logout_redirect_uris=["http://testserver/auth/logged-out"],
)
WECHAT_APPID = "wx5a1b2c3d4e5f6a7b"
WECHAT_SECRET = "wechat-test-secret"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox systems on a loopback port: the portal reaches them over real HTTP."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_sandbox_app(url, [PORTAL_CLIENT], WECHAT_APPID, WECHAT_SECRET)
    recorder = Recorder(app)
    with serve(recorder, port):
        yield Sandbox(url, app, recorder.calls, recorder.ports)


@pytest.fixture(scope="session")
def settings(
    database_url: str, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings.from_env(
        environ={},
        database_url=database_url,
        database_pool_size=0,  # each TestClient runs its own event loop
        secret_key="test-secret-key-not-for-production",
        data_key=base64.b64encode(b"k" * 32).decode(),
        base_url="http://testserver",
        sandbox=False,
        oidc_issuer=sandbox.issuer,
        oidc_client_id=PORTAL_CLIENT.client_id,
        oidc_client_secret=PORTAL_CLIENT.client_secret,
        wechat_api_base=sandbox.wechat,
        wechat_appid=WECHAT_APPID,
        wechat_secret=WECHAT_SECRET,
        licenses_api_base=f"{sandbox.url}/licenses/api/v1",
        registry_api_base=f"{sandbox.url}/registry/api/v1",
        integrations_api_key="sandbox-api-key",
        upload_dir=tmp_path_factory.mktemp("uploads"),
        # Every test signs in from the same address; tests/web/test_ratelimit.py sets its own.
        sign_in_rate_limit="100000/600",
        lookup_rate_limit="100000/600",
        # No sandbox platform behind http://testserver: tests that relay start their own.
        relay_in_process=False,
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_token_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the real catalog, to break on purpose."""
    import shutil

    source = Path(__file__).resolve().parent.parent / "portal" / "catalog"
    target = tmp_path / "catalog"
    shutil.copytree(source / "reference", target / "reference")
    (target / "things").mkdir()
    shutil.copy(source / "things" / "newborn.yaml", target / "things" / "newborn.yaml")
    return target
