"""Catalog pages: home, search, the guide (办事指南) of each one-thing, the figures overview."""

from __future__ import annotations

from functools import cache

import segno
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.catalog.effects import TARGETS
from portal.catalog.schema import Audience
from portal.web import appstate

MAX_QUERY = 50


def _audience(request: Request) -> Audience:
    value = request.query_params.get("audience", "")
    return Audience(value) if value in Audience._value2member_map_ else Audience.PERSON


async def home(request: Request) -> Response:
    service = appstate.catalog(request)
    audience = _audience(request)
    return appstate.templates(request).render(
        request,
        "catalog/home.html",
        {
            "audience": audience,
            "most_used": service.most_used(audience),
            "groups": service.theme_groups(audience),
            "catalog": service.catalog,
        },
    )


async def search(request: Request) -> Response:
    service = appstate.catalog(request)
    query = request.query_params.get("q", "").strip()[:MAX_QUERY]
    audience_param = request.query_params.get("audience", "")
    audience = Audience(audience_param) if audience_param in ("person", "enterprise") else None
    hits = service.search(query, audience) if query else []
    return appstate.templates(request).render(
        request,
        "catalog/search.html",
        {"query": query, "hits": hits, "audience": audience, "catalog": service.catalog},
        block="results",
    )


async def guide(request: Request) -> Response:
    service = appstate.catalog(request)
    thing = service.get(request.path_params["code"])
    if thing is None:
        raise HTTPException(404)
    full = request.query_params.get("view") == "full"
    page_url = f"{appstate.settings(request).base_url}/things/{thing.code}"
    templates = appstate.templates(request)
    content = templates.fragment(
        request,
        "catalog/_guide_content.html",
        {
            "thing": thing,
            "full": full,
            "service": service,
            "catalog": service.catalog,
            "effect": service.effects[thing.code],
            "targets": TARGETS,
            "departments": service.departments_of(thing),
            "qr_svg": _qr_svg(page_url),
            "page_url": page_url,
        },
        key=(thing.code, full),
    )
    return templates.render(request, "catalog/guide.html", {"thing": thing, "content": content})


async def effects_overview(request: Request) -> Response:
    service = appstate.catalog(request)
    return appstate.templates(request).render(
        request,
        "catalog/effects.html",
        {
            "things": service.things(),
            "effects": service.effects,
            "total": service.total,
            "targets": TARGETS,
        },
    )


@cache
def _qr_svg(url: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(scale=3, title=url, dark="#111")
    return Markup(svg)


routes = [
    Route("/", home, name="home"),
    Route("/search", search, name="search"),
    Route("/effects", effects_overview, name="effects"),
    Route("/things/{code:str}", guide, name="guide"),
]
