"""Browser tests: the portal served by uvicorn on a loopback port, Debian's Chromium driven
by Playwright on a phone viewport. Screenshots land in var/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from portal.app import create_app
from portal.settings import PROJECT_ROOT, Settings
from tests.integrations.helpers import free_port, serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


# Module scope: its relay worker must not outlive these tests and take other tests' outbox
# rows (the test database is shared) to its own mounted sandbox.
@pytest.fixture(scope="module")
def live_url(settings: Settings) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # The sandbox mounted in the portal itself, as `make run` has it.
    live = {
        **settings.__dict__,
        "base_url": base_url,
        "sandbox": True,
        "oidc_issuer": "",
        "wechat_api_base": "",
        "oidc_client_id": "portal-demo",
        "licenses_api_base": "",
        "registry_api_base": "",
        "intake_api_base": "",
        "sms_api_base": "",
        "intake_client_id": "portal-demo",
        "relay_in_process": True,
        "sandbox_day_seconds": 0.05,  # a working day in 50 ms: results within the test
    }
    app = create_app(Settings(**live))
    with serve(app, port):
        yield base_url


# Module scope, and after live_url: Playwright's sync API keeps an event loop running in the
# main thread, which must not outlive the browser tests (asyncio.run would refuse to start).
@pytest.fixture(scope="module")
def playwright(live_url: str) -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs the chromium apt package")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def phone(playwright: Playwright) -> dict[str, Any]:
    device = dict(playwright.devices["iPhone 13"])
    device.pop("default_browser_type", None)
    return device


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
