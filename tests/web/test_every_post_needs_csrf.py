"""Walk every registered route: each one that accepts a state-changing method refuses a
request without a CSRF token, signed in or not."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Outside systems with their own authentication (the sandbox stands in for them).
EXEMPT = ("/sandbox",)
# Webhooks are authenticated by their signature instead: they refuse an unsigned request.
SIGNED = ("/webhooks/",)


def _unsafe_routes(app: Starlette) -> list[tuple[str, str]]:
    found = []
    for route in app.routes:
        if isinstance(route, Route) and route.methods:
            path = re.sub(r"\{[^}:]+(:int)?\}", "1", route.path)
            path = re.sub(r"\{[^}]+\}", "x", path)
            found.extend((method, path) for method in sorted(route.methods & UNSAFE))
        elif isinstance(route, Mount) and not route.path.startswith(EXEMPT):
            assert route.path == "/static", f"walk the routes of mount {route.path} too"
    return found


def test_there_are_routes_to_walk(app: Starlette) -> None:
    paths = {path for _, path in _unsafe_routes(app)}
    assert {"/preferences", "/auth/logout", "/profile/entries", "/enterprise/agents"} <= paths


def test_every_unsafe_route_refuses_a_missing_token(app: Starlette, client: TestClient) -> None:
    client.get("/")  # a CSRF cookie exists, only the token is missing
    for method, path in _unsafe_routes(app):
        response = client.request(method, path, data={"x": "1"}, follow_redirects=False)
        expected = (400, 401) if path.startswith(SIGNED) else (403,)
        assert response.status_code in expected, f"{method} {path} answered {response.status_code}"
