"""The whole chain on real sockets: the sandbox (identity, licenses, intake platform, SMS)
on one loopback port, the portal on another; the platform's webhooks reach the portal's
``/webhooks/intake`` over HTTP. Also: apply for the newborn one-thing through the pages, and
copy a real submission many times (for the fault tests)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from integrations.sandbox import IntakeClient, SandboxClient, create_sandbox_app
from portal.app import create_app
from portal.applications import services
from portal.applications.models import Application, ApplicationItem, OutboxMessage
from portal.db import make_engine, make_sessionmaker
from portal.relay import outbox
from portal.settings import Settings
from tests.applications.formdata import photo, submit_page
from tests.auth.helpers import sign_in
from tests.conftest import WECHAT_APPID, WECHAT_SECRET, csrf_token_from
from tests.integrations.helpers import free_port, mounted, serve

T = TypeVar("T")
INTAKE_SECRET = "intake-live-secret"


@dataclass
class Live:
    url: str
    sandbox_url: str
    app: Starlette
    sandbox: Starlette
    settings: Settings

    @cached_property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """The test's own engine: the app's is busy in the server's event loop, and an engine
        connecting for the first time from two loops at once trips over its own lock."""
        return make_sessionmaker(make_engine(self.settings.database_url, 0))

    def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run a coroutine against the portal's database from the test's thread."""
        return asyncio.run(make())  # type: ignore[arg-type]

    def control(self, path: str, body: dict[str, Any]) -> None:
        response = httpx2.post(f"{self.sandbox_url}/intake/sandbox/{path}", json=body, timeout=60)
        assert response.status_code < 300, response.text

    def platform_counts(self, public_ids: list[str]) -> tuple[int, int]:
        """(stored idempotency keys, applications) the sandbox platform holds for these."""
        store = mounted(self.sandbox, "/intake").state.store
        wanted = set(public_ids)
        keys = sum(
            1
            for (_, key), record in list(store.keys.items())
            if key in wanted and record.response is not None
        )
        apps = sum(
            1 for (_, application_id) in list(store.applications) if application_id in wanted
        )
        return keys, apps

    def stats(self) -> dict[str, Any]:
        response = httpx2.get(f"{self.sandbox_url}/intake/sandbox/stats", timeout=60)
        result: dict[str, Any] = response.json()
        return result


@dataclass(frozen=True)
class Pair:
    """The portal's settings and the sandbox made for each other: the sandbox knows the
    portal as its OIDC and intake client, the portal uses the sandbox for everything."""

    settings: Settings
    sandbox: Starlette
    portal_port: int
    sandbox_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"


def pair(
    settings: Settings, tmp: Path, *, relay_in_process: bool = True, day_seconds: float = 0.02
) -> Pair:
    portal_port, sandbox_port = free_port(), free_port()
    url, sandbox_url = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{sandbox_port}"
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    client_id = f"portal-live-{portal_port}"
    login = SandboxClient(
        client_id=client_id,
        client_secret="live-secret",
        redirect_uris=[f"{url}/auth/callback"],
        post_logout_redirect_uris=[f"{url}/auth/logged-out"],
    )
    intake = IntakeClient(
        client_id=client_id,
        client_secret=INTAKE_SECRET,
        webhook_url=f"{url}/webhooks/intake",
        webhook_secrets=(webhook_secret,),
    )
    sandbox = create_sandbox_app(
        sandbox_url,
        [login],
        WECHAT_APPID,
        WECHAT_SECRET,
        intake_clients=[intake],
        intake_speed=day_seconds,
    )
    live_settings = replace(
        settings,
        base_url=url,
        oidc_issuer=f"{sandbox_url}/idp",
        oidc_client_id=client_id,
        oidc_client_secret="live-secret",
        wechat_api_base=f"{sandbox_url}/wechat",
        licenses_api_base=f"{sandbox_url}/licenses/api/v1",
        registry_api_base=f"{sandbox_url}/registry/api/v1",
        intake_api_base=f"{sandbox_url}/intake/v1",
        intake_token_url="",
        intake_client_id=client_id,
        intake_client_secret=INTAKE_SECRET,
        intake_webhook_secret=webhook_secret,
        sms_api_base=f"{sandbox_url}/sms/api/v1",
        relay_in_process=relay_in_process,
        upload_dir=tmp / "uploads",
    )
    return Pair(live_settings, sandbox, portal_port, sandbox_port)


@contextmanager
def live_portal(
    settings: Settings, tmp: Path, *, relay_in_process: bool = True, day_seconds: float = 0.02
) -> Iterator[Live]:
    made = pair(settings, tmp, relay_in_process=relay_in_process, day_seconds=day_seconds)
    app = create_app(made.settings)
    with ExitStack() as stack:
        stack.enter_context(serve(made.sandbox, made.sandbox_port))
        stack.enter_context(serve(app, made.portal_port))
        yield Live(made.url, made.sandbox_url, app, made.sandbox, made.settings)


def apply_newborn(
    client: TestClient,
    person: str = "li-na",
    delivery: str = "per_item",
    typed: dict[str, object] | None = None,
) -> str:
    """Signs in, fills the newborn one-thing (``typed`` changes what is typed), submits;
    returns the application's path."""
    base = fill_newborn(client, person, typed)
    check = client.get(f"{base}/check").text
    submitted = client.post(
        f"{base}/submit",
        data={"csrf_token": csrf_token_from(check), "delivery_mode": delivery},
        follow_redirects=False,
    )
    location: str = submitted.headers["location"]
    return location.split("?")[0]


def fill_newborn(
    client: TestClient, person: str = "li-na", typed: dict[str, object] | None = None
) -> str:
    """Signs in and fills the newborn one-thing up to its check page (not submitted);
    returns the draft's path (``/drafts/<id>``). ``client`` may also be an ``httpx2.Client``
    on the portal's real URL."""
    sign_in(client, person, "L3", next_path="/things/newborn/apply")
    path = submit_page(client, "/things/newborn/apply").headers["location"]
    for answer in ("yes", "no", "no"):
        path = submit_page(client, path, {"answer": answer}).headers["location"]
    base = path.removesuffix("/result")
    section = submit_page(client, f"{base}/result").headers["location"]
    typed = {
        "f.child_name": "张小宝",
        "f.child_ethnicity": "汉族",
        "f.relation_to_head": "child",
        "f.delivery_method": "pickup",
        "f.applicant_role": "mother",
        **(typed or {}),
    }
    while "/s/" in section:
        response = submit_page(client, section, typed)
        if response.status_code == 400:  # an answer showed another field (no JavaScript)
            response = submit_page(client, section, typed)
        assert response.status_code == 303, response.text
        section = response.headers["location"]
    page = client.get(section).text
    licenses = dict(re.findall(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"', page))
    data: dict[str, object] = {"m.child_photo.mode": "upload"}
    for key, license_id in licenses.items():
        data |= {
            f"m.{key}.mode": "license",
            f"m.{key}.license": license_id,
            f"m.{key}.consent": "yes",
        }
    files = {"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")}
    response = submit_page(client, section, data, files)
    assert response.headers["location"] == f"{base}/check", response.text
    return base


async def application(live: Live, public_id: str) -> tuple[Application, list[ApplicationItem]]:
    async with live.sessionmaker() as db:
        found = await db.scalar(select(Application).where(Application.public_id == public_id))
        assert found is not None
        rows = await db.execute(
            select(ApplicationItem).where(ApplicationItem.application_id == found.id)
        )
        return found, list(rows.scalars())


async def clone_submissions(live: Live, public_id: str, count: int) -> list[str]:
    """``count`` new applications, each with its own outbox row, copied from a real one."""
    cipher = live.app.state.cipher
    made = []
    async with live.sessionmaker() as db:
        source = await db.scalar(select(Application).where(Application.public_id == public_id))
        assert source is not None
        row = await db.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == public_id)
        )
        assert row is not None
        envelope = json.loads(cipher.decrypt(row.body, outbox.PURPOSE))
        items = (
            (
                await db.execute(
                    select(ApplicationItem).where(ApplicationItem.application_id == source.id)
                )
            )
            .scalars()
            .all()
        )
        for _ in range(count):
            copy = Application(
                **{
                    c: getattr(source, c)
                    for c in (
                        "thing_code",
                        "subject_kind",
                        "subject_id",
                        "operator_id",
                        "answers",
                        "values",
                        "materials",
                        "figures",
                        "submitted_at",
                        "delivery",
                        "applicant_tail_hash",
                    )
                },
                public_id=services.new_public_id(),
                draft_public_id=services.new_public_id(),
                status="submitted",
                sequence=-1,
                platform={},
                relay_status="pending",
            )
            db.add(copy)
            await db.flush()
            copy.submission_number = services.submission_number(copy.id, copy.submitted_at)
            for item in items:
                db.add(
                    ApplicationItem(
                        application_id=copy.id,
                        item_key=item.item_key,
                        department=item.department,
                        promised_days=item.promised_days,
                        status="submitted",
                        sequence=-1,
                        snapshot={},
                    )
                )
            body = {
                **envelope["body"],
                "application_id": copy.public_id,
                "submission_number": copy.submission_number,
            }
            outbox.enqueue(
                db,
                cipher,
                "intake.submit",
                copy.public_id,
                {"path": "/applications", "body": body},
                copy.id,
            )
            made.append(copy.public_id)
        await db.commit()
    return made


async def relayed(live: Live, public_ids: list[str]) -> int:
    async with live.sessionmaker() as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.public_id.in_(public_ids), Application.relay_status == "relayed")
        )
        return int(count or 0)


def settings_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment that gives a ``portal`` subprocess exactly these settings."""
    env = dict(os.environ)
    for f in fields(settings):
        value = getattr(settings, f.name)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        env[f"PORTAL_{f.name.upper()}"] = text
    return env | {f"PORTAL_{name.upper()}": value for name, value in overrides.items()}


def relay_process(
    settings: Settings, workers: int, lease_seconds: int = 2
) -> subprocess.Popen[bytes]:
    """``portal relay --workers N`` in its own session (a kill of the group reaches every
    worker), leases short so rows a killed worker held come back quickly."""
    env = settings_env(
        settings,
        database_pool_size="2",
        relay_lease_seconds=str(lease_seconds),
        log_level="WARNING",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "relay", "--workers", str(workers)],
        env=env,
        start_new_session=True,
    )


def sandbox_texts(live: Live) -> list[dict[str, Any]]:
    """Every text message the sandbox's SMS gateway has been given (its ``text``, ``out_id``…)."""
    answer = httpx2.get(
        f"{live.sandbox_url}/sms/api/v1/messages",
        headers={"authorization": "Bearer sandbox-api-key"},
        timeout=10,
    ).json()
    rows: list[dict[str, Any]] = answer["messages"] if isinstance(answer, dict) else answer
    return rows
