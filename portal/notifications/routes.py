"""``/profile/notifications``: which channels a person is told on."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth.guards import require_actor
from auth.models import WeChatBinding
from portal.notifications import services
from portal.web import appstate


async def preferences(request: Request) -> Response:
    actor = require_actor(request)
    async with appstate.database(request)() as db:
        if request.method == "POST":
            form = await request.form()
            await services.set_preferences(
                db, actor.person_id, sms=form.get("sms") == "on", wechat=form.get("wechat") == "on"
            )
            await db.commit()
            return RedirectResponse("/profile/notifications?saved=1", status_code=303)
        chosen = await services.preferences(db, actor.person_id)
        bound = await db.scalar(
            select(WeChatBinding.id).where(WeChatBinding.person_id == actor.person_id).limit(1)
        )
    return appstate.templates(request).render(
        request,
        "profile/notifications.html",
        {
            "chosen": chosen,
            "wechat_bound": bound is not None,
            "saved": request.query_params.get("saved") == "1",
        },
    )


routes = [Route("/profile/notifications", preferences, methods=["GET", "POST"])]
