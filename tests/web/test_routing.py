"""The indexed router picks the route Starlette's own search would, for every route of the
portal and paths that match none."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.testclient import TestClient

from portal.web.routing import IndexedRouter


def _chosen(routes: Sequence[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    """The route Starlette's Router.app hands the request to when it tries ``routes`` in
    order (a full match, else the first partial one), or None."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _sample_paths(routes: list[BaseRoute]) -> list[str]:
    paths = ["/", "/nowhere", "/applications/", "/static", "/static/", "//x", "/applications"]
    for route in routes:
        if isinstance(route, Mount):
            paths += [route.path + "/app.css", route.path + "/a/b", route.path]
        elif isinstance(route, Route):
            filled = re.sub(r"{[^}]+}", "x1", route.path)
            paths += [filled, filled + "/", filled + "/more"]
    return paths


def test_the_same_route_as_starlettes_search_for_every_path(app: Starlette) -> None:
    router = app.router
    assert isinstance(router, IndexedRouter)
    paths = _sample_paths(list(router.routes))
    assert len(paths) > 200
    for path in paths:
        for method in ("GET", "POST", "DELETE"):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            assert _chosen(router.candidates(scope), scope) is _chosen(router.routes, scope), (
                method,
                path,
            )


def test_routes_in_order_whatever_their_first_segment() -> None:
    async def endpoint(request: object) -> None: ...

    first = Route("/{anything}/b", endpoint)
    second = Route("/a/{b}", endpoint)
    router = IndexedRouter([first, second, Route("/c", endpoint)])
    scope = {"type": "http", "path": "/a/b", "method": "GET", "root_path": ""}
    assert (
        _chosen(router.candidates(scope), scope) is first
    )  # a parameter first segment keeps its place
    scope["path"] = "/z/b"
    assert _chosen(router.candidates(scope), scope) is first  # and is tried for any segment
    router.routes.insert(0, added := Route("/a/b", endpoint))
    scope["path"] = "/a/b"
    assert _chosen(router.candidates(scope), scope) is added  # routes added later are indexed too


@pytest.mark.parametrize(
    ("path", "status"),
    [("/things/newborn", 200), ("/things/newborn/", 200), ("/nowhere", 404)],
)
def test_pages_redirects_and_not_found_as_before(
    client: TestClient, path: str, status: int
) -> None:
    assert client.get(path).status_code == status


def test_a_method_not_allowed_keeps_its_405(client: TestClient) -> None:
    answer = client.options("/things/newborn")
    assert answer.status_code == 405 and "GET" in answer.headers["allow"]
