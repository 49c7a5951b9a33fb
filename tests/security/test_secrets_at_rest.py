"""After a whole run (sign in, apply, submit, relay to the platform, its webhooks, the text and
WeChat notifications, a progress lookup) no ID number, phone number or token is in clear in
any log line or in any text, JSON or binary column of any table."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from sqlalchemy import delete, text
from starlette.testclient import TestClient

from auth.models import WeChatBinding
from integrations.sandbox.people import PEOPLE
from portal.db import Base
from portal.settings import Settings
from portal.web.request_id import log_handler
from tests.conftest import csrf_token_from
from tests.relay.live import Live, application, apply_newborn, live_portal

# The stand-ins for outside systems, and the test's own servers for them (the portal's server
# writes no uvicorn access log: RequestIdMiddleware writes it, without query strings).
OUTSIDE = ("integrations.sandbox", "uvicorn.access", "aiosqlite")
# Delivered by post: the recipient's mobile number and address travel with the application.
BY_POST = {
    "f.delivery_method": "mail",
    "f.delivery_address.province": "41",
    "f.delivery_address.city": "4107",
    "f.delivery_address.county": "410702",
    "f.delivery_address.street": "人民路 1 号",
}
JWT = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+")


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_portal(settings, tmp_path_factory.mktemp("secrets")) as running:
        yield running


def _needles(live: Live, cookies: list[str]) -> dict[str, str]:
    """What must never appear in clear, with a name to report it by."""
    found: dict[str, str] = {}
    for person in PEOPLE:
        found[person.id_number] = f"ID number of {person.sub}"
        found[person.phone_number] = f"phone number of {person.sub}"
    s = live.settings
    for name in (
        "secret_key",
        "data_key",
        "oidc_client_secret",
        "wechat_secret",
        "integrations_api_key",
        "intake_client_secret",
        "intake_webhook_secret",
    ):
        value = getattr(s, name)
        if value:
            found[value] = f"setting {name}"
    for value in cookies:
        found[value] = "a cookie's value (session or CSRF secret)"
    return found


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace") + value.decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


async def _every_cell(live: Live) -> list[tuple[str, str]]:
    """(table.column, stored text) of every text, JSON and binary cell of every table, read
    raw: as stored, before any type decorator unseals it."""
    cells: list[tuple[str, str]] = []
    async with live.sessionmaker() as db:
        for table in Base.metadata.sorted_tables:
            names = [c.name for c in table.columns]
            quoted = ", ".join(f'"{n}"' for n in names)
            for row in await db.execute(text(f'SELECT {quoted} FROM "{table.name}"')):
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, str | bytes | dict | list):
                        cells.append((f"{table.name}.{name}", _text(value)))
    return cells


async def _unbind_wechat(live: Live, sub: str) -> None:
    person = next(p for p in PEOPLE if p.sub == sub)
    async with live.sessionmaker() as db:
        await db.execute(delete(WeChatBinding).where(WeChatBinding.openid == person.wechat_openid))
        await db.commit()


def _findings(texts: list[tuple[str, str]], needles: dict[str, str]) -> list[str]:
    found = []
    for where, stored in texts:
        found += [f"{what} in {where}" for needle, what in needles.items() if needle in stored]
        if JWT.search(stored):
            found.append(f"a signed token (JWT) in {where}")
    return sorted(set(found))


@pytest.fixture
def written_logs() -> Iterator[io.StringIO]:
    """Every line the portal's own log handler writes (as in production), at DEBUG level."""
    buffer = io.StringIO()
    handler = log_handler(buffer)
    handler.addFilter(_Inside())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class _Inside(logging.Filter):
    """Leaves out what the stand-ins for outside systems log about themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(OUTSIDE)


def test_no_personal_number_or_token_in_clear(live: Live, written_logs: io.StringIO) -> None:
    with TestClient(live.app, base_url=live.url) as citizen:
        # Enter from the mini-program first: progress also goes out as WeChat messages. An
        # earlier test may have bound her WeChat to her account at another issuer: unbind.
        live.call(lambda: _unbind_wechat(live, "li-na"))
        code = httpx2.post(
            f"{live.sandbox_url}/wechat/sandbox/login", params={"person": "li-na"}, timeout=10
        ).json()["code"]
        assert citizen.get(f"/auth/wechat?code={code}").status_code == 200
        path = apply_newborn(citizen, typed=BY_POST)
        public_id = path.rsplit("/", 1)[1]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found, items = live.call(lambda: application(live, public_id))
            if found.status == "concluded" and all(i.status == "delivered" for i in items):
                break
            time.sleep(0.2)
        assert found.status == "concluded", "the platform did not conclude in time"
        assert "已发送" in citizen.get(path).text  # notifications went out
        assert "微信小程序，绑定于" in citizen.get("/profile").text
        cookies = [c.value for c in citizen.cookies.jar]
        with TestClient(live.app, base_url=live.url) as stranger:
            token = csrf_token_from(stranger.get("/track").text)
            looked_up = stranger.post(
                "/track",
                data={"csrf_token": token, "number": found.submission_number, "tail": "270425"},
            )
            assert looked_up.status_code == 200
            cookies += [c.value for c in stranger.cookies.jar]
    needles = _needles(live, cookies)

    logs = [(f"log line {n}", line) for n, line in enumerate(written_logs.getvalue().splitlines())]
    assert len(logs) > 20, "the run wrote almost no logs: is capture working?"
    assert not _findings(logs, needles), _findings(logs, needles)

    cells = live.call(lambda: _every_cell(live))
    assert {"applications.values", "web_sessions.data", "outbox.body"} <= {n for n, _ in cells}
    assert not _findings(cells, needles), _findings(cells, needles)
    # After the scan (the binding is one of the rows scanned). The database outlives this
    # test: a later one enters from WeChat as li-na for the first time (test_wechat_entry).
    live.call(lambda: _unbind_wechat(live, "li-na"))


def test_the_scan_finds_what_it_looks_for() -> None:
    person = PEOPLE[0]
    needles = {person.id_number: "ID", person.phone_number: "phone"}
    texts = [
        ("t.a", f"applicant {person.id_number}"),
        ("t.b", _text(json.dumps({"mobile": person.phone_number}).encode())),
        ("t.c", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ6aGFuZy13ZWkifQ.c2lnbmF0dXJl"),
        ("t.d", base64.b64encode(person.id_number.encode()).decode()),
    ]
    assert _findings(texts, needles) == [
        "ID in t.a",
        "a signed token (JWT) in t.c",
        "phone in t.b",
    ]
