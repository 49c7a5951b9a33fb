"""The confirmation and the PDF receipt (收件回执): number, what happens next, a QR code to
the progress page. WeasyPrint renders Chinese with the Noto CJK fonts the set-up installs."""

from __future__ import annotations

from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from auth.guards import require_actor
from portal.applications import services
from portal.applications.models import Application, ApplicationItem
from portal.catalog.schema import Item, OneThing
from portal.web import appstate

REVIEW_HOURS = 2  # seed 002 annex 3: online review within 2 working hours
ACCEPT_DAYS = 1  # acceptance by every department within 1 working day


async def load(request: Request) -> tuple[Application, OneThing, list[Item]]:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        application = await db.scalar(
            select(Application).where(Application.public_id == request.path_params["application"])
        )
        if application is None or not services.may_access(application, actor):
            raise HTTPException(404)
        rows = await db.execute(
            select(ApplicationItem)
            .where(ApplicationItem.application_id == application.id)
            .order_by(ApplicationItem.id)
        )
        keys = [row.item_key for row in rows.scalars()]
    thing = appstate.catalog(request).get(application.thing_code)
    if thing is None:
        raise HTTPException(404)
    items = [item for item in thing.items if item.key in keys]
    return application, thing, items


def context(request: Request, application: Application, thing: OneThing) -> dict[str, Any]:
    url = f"{appstate.settings(request).base_url}/applications/{application.public_id}"
    return {
        "progress_url": url,
        "qr_svg": Markup(segno.make(url, error="m").svg_inline(scale=3, title=url)),
        "review_hours": REVIEW_HOURS,
        "accept_days": ACCEPT_DAYS,
        "effect": appstate.catalog(request).effects[thing.code],
    }


async def render_pdf(
    request: Request, application: Application, thing: OneThing, items: list[Item]
) -> bytes:
    templates = appstate.templates(request)
    html = templates.render_string(
        request,
        "applications/receipt_pdf.html",
        {
            "application": application,
            "thing": thing,
            "items": items,
            "catalog": appstate.catalog(request).catalog,
            **context(request, application, thing),
        },
    )
    return await run_in_threadpool(_pdf, html)


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which start-up does not need

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
