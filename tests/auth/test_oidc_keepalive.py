"""The portal's calls to the identity provider reuse keep-alive connections (Authlib opens a
client per call; a new connection each made sign-in the slowest kind under load,
docs/load.md), and the protocol stays whole: discovery, PKCE, nonce, id_token validation."""

from __future__ import annotations

import asyncio
import warnings

import httpx2
from starlette.testclient import TestClient

from integrations.keepalive import KeepAliveTransport
from tests.auth.helpers import sign_in
from tests.integrations.helpers import Sandbox

PORTAL_CALLS = ("/idp/token", "/idp/userinfo")


def test_sign_ins_share_one_connection_to_the_provider(
    client: TestClient, sandbox: Sandbox
) -> None:
    sign_in(client, "li-na", "L3")  # discovery and JWKS, fetched once and kept by Authlib
    sandbox.calls.clear()
    sandbox.ports.clear()
    for person in ("li-na", "zhang-wei", "li-na"):
        assert sign_in(client, person, "L3") == "/profile"
    calls = [
        (path, port)
        for (_, path), port in zip(sandbox.calls, sandbox.ports, strict=True)
        if path in PORTAL_CALLS
    ]
    assert [path for path, _ in calls] == list(PORTAL_CALLS) * 3
    assert len({port for _, port in calls}) == 1  # was one connection per call


def test_outside_the_app_loop_each_call_has_its_own_connection(sandbox: Sandbox) -> None:
    """Before ``open()`` (or on another loop) the transport still answers, and closes each
    connection with its response: no socket left for the garbage collector."""
    transport = KeepAliveTransport(sandbox.issuer)

    async def twice() -> list[int]:
        statuses = []
        for _ in range(2):
            async with httpx2.AsyncClient(transport=transport) as http:
                answer = await http.get(f"{sandbox.issuer}/.well-known/openid-configuration")
                statuses.append(answer.status_code)
        return statuses

    sandbox.ports.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        assert asyncio.run(twice()) == [200, 200]
    assert len(set(sandbox.ports[-2:])) == 2
