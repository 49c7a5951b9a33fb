"""Starlette's router, trying only the routes that can match a path's first segment.

Starlette tries every route in order until one matches: the application page is the 38th of
90 patterns and a static file the 89th, ~0.5 µs a pattern (20 µs of every progress page,
46 µs of a static file). A route whose path begins with a literal segment (``/applications/…``,
the ``/static`` mount) can only match paths that begin with it, so each request tries those of
its first segment, in their order, and the routes that could match any path (a parameter in
the first segment, a host route). That is the order Starlette would try them in, less the
routes that cannot match: the same route wins. A path none of them matches goes through
Starlette's own full search, which handles 405s and trailing-slash redirects as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The path as the routes themselves match it (the ASGI path less the root path).
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

_ANY = object()  # the key of routes that could match any first segment


def _first_segment(route: BaseRoute) -> object:
    path = route.path if isinstance(route, Route | WebSocketRoute | Mount) else None
    if not path or not path.startswith("/"):
        return _ANY
    first = path[1:].split("/", 1)[0]
    return _ANY if "{" in first else first


def _index(routes: Sequence[BaseRoute]) -> dict[object, tuple[BaseRoute, ...]]:
    keys = {_first_segment(route) for route in routes} - {_ANY}
    return {key: tuple(r for r in routes if _first_segment(r) in (key, _ANY)) for key in keys} | {
        _ANY: tuple(r for r in routes if _first_segment(r) is _ANY)
    }


class IndexedRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexed: tuple[BaseRoute, ...] = ()
        self._by_segment: dict[object, tuple[BaseRoute, ...]] = {}

    def candidates(self, scope: Scope) -> tuple[BaseRoute, ...]:
        """The routes that can match the request's path, in the router's order."""
        if tuple(self.routes) != self._indexed:  # (routes added after start-up)
            self._indexed = tuple(self.routes)
            self._by_segment = _index(self.routes)
        first = get_route_path(scope)[1:].split("/", 1)[0]
        return self._by_segment.get(first) or self._by_segment[_ANY]

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        partial = None
        for route in self.candidates(scope):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # the path matched, the method did not (405)
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await super().app(scope, receive, send)  # redirects and 404 as Starlette does them
