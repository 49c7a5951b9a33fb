"""Serve the sandbox over real HTTP, and drive its sign-in page the way a browser does:
read the form, post it back."""

from __future__ import annotations

import base64
import hashlib
import html
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.sandbox import SandboxClient
from integrations.sandbox.idp_models import IdpStore
from integrations.sandbox.license_store import LicenseStore
from integrations.sandbox.wechat import WeChatStore

CLIENT_ID = "portal"
CLIENT_SECRET = "portal-test-secret"
REDIRECT_URI = "https://portal.example/auth/callback"
LOGGED_OUT_URI = "https://portal.example/auth/logged-out"
WECHAT_APPID = "wx5a1b2c3d4e5f6a7b"
WECHAT_SECRET = "wechat-test-secret"
API_KEY = "sandbox-api-key"  # create_sandbox_app's default, which the conftest uses


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nothing listens on, drawn from below the kernel's ephemeral range.

    A port the kernel hands out for ``bind(0)`` is ephemeral: between this call and the server's
    own bind, any outgoing connection may take it as its local port (CI saw a subprocess fail
    with "address already in use" under the fault test's load). Ports below the range are never
    given to outgoing connections."""
    high = _ephemeral_low()
    while True:
        port = random.randrange(max(1024, high - 12000), high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port


@contextmanager
def serve(app: ASGIApp, port: int) -> Iterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Recorder:
    """Notes each HTTP request's method and path before the app answers it: tests count the
    calls the portal makes to the sandbox."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[tuple[str, str]] = []
        self.ports: list[int] = []  # the client's port of each call: one per connection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls.append((scope["method"], scope["path"]))
            self.ports.append(scope["client"][1] if scope.get("client") else 0)
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Sandbox:
    url: str
    app: Starlette
    calls: list[tuple[str, str]] = field(default_factory=list)  # with a Recorder in front
    ports: list[int] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"{self.url}/idp"

    @property
    def wechat(self) -> str:
        return f"{self.url}/wechat"

    @property
    def licenses_api(self) -> str:
        return f"{self.url}/licenses/api/v1"

    @property
    def registry_api(self) -> str:
        return f"{self.url}/registry/api/v1"

    @property
    def license_store(self) -> LicenseStore:
        store: LicenseStore = mounted(self.app, "/licenses").state.store
        return store

    @property
    def idp_store(self) -> IdpStore:
        store: IdpStore = mounted(self.app, "/idp").state.store
        return store

    @property
    def wechat_store(self) -> WeChatStore:
        store: WeChatStore = mounted(self.app, "/wechat").state.store
        return store


def portal_client() -> SandboxClient:
    return SandboxClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[LOGGED_OUT_URI],
    )


def mounted(app: Starlette, path: str) -> Starlette:
    """The sub-app mounted at ``path`` (its ``state.store`` is where tests move the clock)."""
    for route in app.routes:
        if isinstance(route, Mount) and route.path == path and isinstance(route.app, Starlette):
            return route.app
    raise LookupError(path)


HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
RADIO = re.compile(r'<input type="radio" name="([^"]*)" value="([^"]*)"')


def challenge_for(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Attempt:
    """One authorization request, with its secrets kept for the token request."""

    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def params(self, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid profile phone",
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": challenge_for(self.verifier),
            "code_challenge_method": "S256",
            **overrides,
        }
        return {key: value for key, value in params.items() if value is not None}


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(html.unescape(k), html.unescape(v)) for k, v in HIDDEN.findall(page)]


def radio_values(page: str, name: str) -> list[str]:
    return [html.unescape(value) for field_name, value in RADIO.findall(page) if field_name == name]


def choose(
    http: httpx2.Client, sandbox: Sandbox, page: httpx2.Response, person: str, level: str
) -> httpx2.Response:
    form = {**dict(hidden_fields(page.text)), "person": person, "level": level}
    return http.post(f"{sandbox.issuer}/authorize", data={**form, "decision": "allow"})


def query_of(response: httpx2.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def get_code(
    http: httpx2.Client,
    sandbox: Sandbox,
    attempt: Attempt,
    person: str = "zhang-wei",
    level: str = "L4",
    **overrides: str | None,
) -> str:
    page = http.get(f"{sandbox.issuer}/authorize", params=attempt.params(**overrides))
    assert page.status_code == 200, page.text
    response = choose(http, sandbox, page, person, level)
    assert response.status_code == 302, response.text
    assert response.headers["location"].startswith(REDIRECT_URI + "?")
    query = query_of(response)
    assert query["state"] == attempt.state
    return query["code"]


def exchange(http: httpx2.Client, sandbox: Sandbox, code: str, verifier: str) -> httpx2.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return http.post(
        f"{sandbox.issuer}/token",
        data={**data, "code_verifier": verifier},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
