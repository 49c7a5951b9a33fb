"""好差评 pages: rate an application or a sub-item, rate the rectification of a bad rating,
and the public figures. Rules live in ``services``, ``followup`` and ``figures``."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.guards import require_actor
from portal.applications import aftercare
from portal.applications.models import Application
from portal.catalog.schema import OneThing
from portal.ratings import figures, followup, services
from portal.ratings.levels import FIX_LEVELS, INDICATORS, LEVELS, REASONS
from portal.web import appstate


async def _mine(request: Request, db: Any) -> tuple[Application, OneThing]:
    actor = require_actor(request)
    application = await aftercare.application_for(db, request.path_params["application"], actor)
    thing = appstate.catalog(request).get(application.thing_code) if application else None
    if application is None or thing is None:
        raise HTTPException(404)
    return application, thing


def _back(application: Application, done: str) -> Response:
    return RedirectResponse(f"/applications/{application.public_id}?done={done}", status_code=303)


async def rate(request: Request) -> Response:
    item_key = request.path_params.get("item", "")
    answer, problems = services.Answer(), {}
    async with appstate.database(request)() as db:
        application, thing = await _mine(request, db)
        actor = require_actor(request)
        target = await services.target_for(db, application, thing, actor, item_key)
        if target is None:
            raise HTTPException(404)
        if target.rating is not None:
            return _back(application, "already_rated")
        if not target.open:
            raise HTTPException(409)
        if request.method == "POST":
            answer = services.read_answer(await request.form())
            problems = services.problems(answer)
            if not problems:
                days = appstate.settings(request).rating_rectify_days
                cipher = appstate.cipher(request)
                made = await services.rate(db, cipher, actor, application, target, answer, days)
                appstate.wake_relay(request)
                return _back(application, "rated" if made else "already_rated")
    context = {
        "application": application,
        "thing": thing,
        "target": target,
        "answer": answer,
        "problems": problems,
        "levels": list(LEVELS),
        "indicators": INDICATORS,
        "reasons": REASONS,
    }
    status = 400 if problems else 200
    return appstate.templates(request).render(
        request, "ratings/rate.html", context, status_code=status
    )


async def rectification(request: Request) -> Response:
    problems: dict[str, str] = {}
    level = comment = ""
    async with appstate.database(request)() as db:
        application, thing = await _mine(request, db)
        actor = require_actor(request)
        rating = await services.rating_of(db, application, request.path_params["rating"], actor)
        if rating is None:
            raise HTTPException(404)
        if not services.may_rate_fix(rating):
            return _back(application, "fix_closed")
        if request.method == "POST":
            form = await request.form()
            level = str(form.get("fix_level", ""))
            comment = str(form.get("comment", "")).strip()
            problems = services.fix_problems(level, comment)
            if not problems:
                cipher = appstate.cipher(request)
                await services.rate_fix(db, cipher, application, rating, level, comment)
                appstate.wake_relay(request)
                return _back(application, "fix_rated")
    context = {
        "application": application,
        "thing": thing,
        "rating": rating,
        "steps": followup.steps(rating),
        "fix_levels": FIX_LEVELS,
        "level": level,
        "comment": comment,
        "problems": problems,
    }
    status = 400 if problems else 200
    return appstate.templates(request).render(
        request, "ratings/rectification.html", context, status_code=status
    )


async def index(request: Request) -> Response:
    catalog = appstate.catalog(request).catalog
    async with appstate.database(request)() as db:
        things, departments = await figures.totals(db)
    context = {
        "things": [(t, things.get(t.code, (0, 0))) for t in catalog.things.values()],
        "departments": [(d, departments.get(d.key, (0, 0))) for d in catalog.departments.values()],
    }
    return appstate.templates(request).render(request, "ratings/index.html", context)


async def thing_figures(request: Request) -> Response:
    thing = appstate.catalog(request).get(request.path_params["code"])
    if thing is None:
        raise HTTPException(404)
    async with appstate.database(request)() as db:
        found = await figures.for_thing(db, thing.code)
    return _figures_page(request, thing.name, found)


async def department_figures(request: Request) -> Response:
    department = appstate.catalog(request).catalog.departments.get(request.path_params["key"])
    if department is None:
        raise HTTPException(404)
    async with appstate.database(request)() as db:
        found = await figures.for_department(db, department.key)
    return _figures_page(request, department.name, found)


def _figures_page(request: Request, name: Any, found: figures.Figures) -> Response:
    context = {"name": name, "figures": found, "bars": figures.bars(found)}
    return appstate.templates(request).render(request, "ratings/figures.html", context)


APPLICATION = "/applications/{application:str}"
routes = [
    Route(f"{APPLICATION}/rate", rate, methods=["GET", "POST"], name="rate"),
    Route(f"{APPLICATION}/items/{{item:str}}/rate", rate, methods=["GET", "POST"]),
    Route(
        f"{APPLICATION}/ratings/{{rating:str}}/rectification",
        rectification,
        methods=["GET", "POST"],
    ),
    Route("/ratings", index, name="ratings"),
    Route("/ratings/things/{code:str}", thing_figures),
    Route("/ratings/departments/{key:str}", department_figures),
]
