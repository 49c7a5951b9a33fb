"""Handlers ask for a signed-in actor at a level; the app turns a refusal into a redirect
to sign-in (or step-up) that comes back to the same page."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from auth.actor import Actor, current_actor
from auth.levels import at_least


class SignInRequired(Exception):
    def __init__(self, level: str | None = None) -> None:
        super().__init__(level or "")
        self.level = level


def require_actor(request: Request, level: str = "L2") -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise SignInRequired(level if level != "L2" else None)
    if not at_least(actor.level, level):
        raise SignInRequired(level)
    return actor


def login_url(next_path: str, level: str | None = None) -> str:
    params = {"next": next_path}
    if level:
        params["acr"] = level
    return f"/auth/login?{urlencode(params)}"


async def sign_in_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":  # a form cannot be replayed after sign-in: start over
        here = "/"
    response = RedirectResponse(login_url(here, exc.level), status_code=303)
    if request.headers.get("hx-request") == "true":
        response.headers["HX-Redirect"] = response.headers["location"]
    return response
