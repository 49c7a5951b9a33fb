"""Sign-in, sign-out, step-up, WeChat web-view entry and the acting-subject switch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from auth import oidc, services
from auth.actor import capacities
from auth.guards import login_url, require_actor
from auth.levels import LEVELS, at_least
from auth.models import Person, WeChatBinding
from integrations.wechat import WeChatCodeError
from portal.preferences.routes import safe_next
from portal.web import appstate

log = logging.getLogger(__name__)


def _problem(request: Request, problem: str, status: int = 400, **extra: Any) -> Response:
    return appstate.templates(request).render(
        request, "auth/problem.html", {"problem": problem, **extra}, status_code=status
    )


async def login(request: Request) -> Response:
    # Each start writes a session and sends the person to the identity provider: a flood of
    # them costs both.
    if not await appstate.limiter(request).allow("sign_in", appstate.client_address(request)):
        return _problem(request, "too_many", status=429)
    next_path = safe_next(request.query_params.get("next"))
    level = request.query_params.get("acr")
    request.session["next"] = next_path
    kwargs: dict[str, str] = {}
    if level in LEVELS:
        request.session["wanted_level"] = level
        kwargs = {"acr_values": level, "prompt": "login"}
    else:
        request.session.pop("wanted_level", None)
    redirect_uri = f"{appstate.settings(request).base_url}/auth/callback"
    try:
        response: Response = await oidc.client(appstate.oauth(request)).authorize_redirect(
            request, redirect_uri, **kwargs
        )
    except Exception:
        log.exception("identity provider unreachable")
        return _problem(request, "provider_down", status=503)
    return response


async def callback(request: Request) -> Response:
    client = oidc.client(appstate.oauth(request))
    try:
        token = await client.authorize_access_token(request)
        userinfo = await client.userinfo(token=token)
        claims = services.claims_from(
            appstate.settings(request).oidc_issuer_url, token["userinfo"], userinfo
        )
    except MismatchingStateError:
        return _problem(request, "stale")
    except OAuthError as exc:
        log.warning("sign-in refused: %s", exc.error)
        return _problem(request, "denied" if exc.error == "access_denied" else "invalid")
    except services.ClaimsError as exc:
        log.warning("sign-in refused: %s", exc)
        return _problem(request, "invalid")
    except Exception:
        log.exception("sign-in failed")
        return _problem(request, "invalid")
    wanted = request.session.pop("wanted_level", None)
    next_path = safe_next(request.session.pop("next", "/"))
    pending = request.session.pop("wechat_pending", None)
    async with appstate.database(request)() as db:
        person = await services.upsert_person(db, appstate.cipher(request), claims)
        if pending:
            await services.bind_wechat(db, person, pending, claims.level)
        await db.commit()
    if wanted and not at_least(claims.level, wanted):
        return _problem(request, "level_too_low", status=403, wanted=wanted, got=claims.level)
    services.start_session(request.session, person, claims.level, "oidc", token.get("id_token"))
    return RedirectResponse(next_path, status_code=303)


async def logout(request: Request) -> Response:
    id_token = request.session.get("id_token")
    request.session.clear()
    settings = appstate.settings(request)
    client = oidc.client(appstate.oauth(request))
    after = f"{settings.base_url}/auth/logged-out"
    if not id_token:
        return RedirectResponse("/auth/logged-out", status_code=303)
    try:
        response: Response = await client.logout_redirect(
            request, post_logout_redirect_uri=after, id_token_hint=id_token
        )
    except Exception:  # the session is already gone here; the provider is best effort
        log.exception("provider logout failed")
        return RedirectResponse("/auth/logged-out", status_code=303)
    response.status_code = 303
    return response


async def logged_out(request: Request) -> Response:
    # Authlib keeps the logout state in the session; it has served its purpose.
    for key in [k for k in request.session if k.startswith("_state_")]:
        del request.session[key]
    return appstate.templates(request).render(request, "auth/logged_out.html")


async def wechat_entry(request: Request) -> Response:
    """The mini-program's web-view opens this with a one-time wx.login() code."""
    code = request.query_params.get("code", "")
    next_path = safe_next(request.query_params.get("next"))
    if not code:
        return _problem(request, "wechat_code")
    try:
        wechat = await appstate.wechat(request).code_to_session(code)
    except WeChatCodeError:
        return _problem(request, "wechat_code")
    except Exception:
        log.exception("WeChat unreachable")
        return _problem(request, "provider_down", status=503)
    async with appstate.database(request)() as db:
        binding = await db.scalar(
            select(WeChatBinding).where(WeChatBinding.openid == wechat.openid)
        )
        person = await db.get(Person, binding.person_id) if binding else None
        if binding and person:
            binding.last_used_at = datetime.now(UTC)
            await db.commit()
    if binding is None or person is None:
        request.session["wechat_pending"] = {
            "appid": appstate.settings(request).wechat_appid,
            "openid": wechat.openid,
            "unionid": wechat.unionid or "",
        }
        return appstate.templates(request).render(
            request, "auth/wechat_bind.html", {"login_url": login_url(next_path)}
        )
    services.start_session(request.session, person, services.wechat_level(binding), "wechat")
    return RedirectResponse(next_path, status_code=303)


async def act_as(request: Request) -> Response:
    actor = require_actor(request)
    form = await request.form()
    wanted = str(form.get("subject", ""))
    async with appstate.database(request)() as db:
        person = await db.get(Person, actor.person_id)
        options = await capacities(db, person)
    if wanted not in {c.subject.key for c in options}:
        return _problem(request, "not_allowed", status=403)
    request.session["acting_for"] = wanted
    return RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)


routes = [
    Route("/auth/login", login, name="login"),
    Route("/auth/callback", callback, name="auth_callback"),
    Route("/auth/logout", logout, methods=["POST"], name="logout"),
    Route("/auth/logged-out", logged_out, name="logged_out"),
    Route("/auth/wechat", wechat_entry, name="wechat_entry"),
    Route("/auth/act-as", act_as, methods=["POST"], name="act_as"),
]
