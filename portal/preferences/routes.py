"""POST /preferences: switch 长辈版 on or off and go back where the visitor was."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.web.cookies import set_cookie
from portal.web.preferences import ELDER_COOKIE

ONE_YEAR = 365 * 24 * 3600


def safe_next(value: str | None) -> str:
    """Only a local path: never send people to another site after a form."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


async def update_preferences(request: Request) -> Response:
    form = await request.form()
    elder = form.get("elder") == "1"
    response = RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)
    https: bool = request.app.state.settings.https
    set_cookie(response.headers, ELDER_COOKIE, "1" if elder else "0", https=https, max_age=ONE_YEAR)
    return response


routes = [Route("/preferences", update_preferences, methods=["POST"], name="preferences")]
