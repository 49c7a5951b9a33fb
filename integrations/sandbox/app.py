"""The whole sandbox in one Starlette app: the identity provider at ``/idp``, the WeChat API
at ``/wechat``, and an index page at ``/`` saying what is where.

``public_url`` is where the sandbox is reachable from outside, without a trailing slash:
``<PORTAL_BASE_URL>/sandbox`` when the portal mounts it, ``http://127.0.0.1:N`` when
``portal sandbox --port N`` serves it alone. The issuer is derived from it, and id_tokens
must name exactly the issuer the portal discovered.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from integrations.sandbox import pages
from integrations.sandbox.idp import create_idp_app
from integrations.sandbox.idp_models import SandboxClient
from integrations.sandbox.people import PEOPLE
from integrations.sandbox.wechat import create_wechat_app


def create_sandbox_app(
    public_url: str, clients: Sequence[SandboxClient], wechat_appid: str, wechat_secret: str
) -> Starlette:
    public_url = public_url.rstrip("/")
    issuer, wechat = f"{public_url}/idp", f"{public_url}/wechat"

    async def index(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        context = {"stylesheet": f"{root}/idp/sandbox.css", "people": PEOPLE}
        return pages.render("index.html", {**context, "issuer": issuer, "wechat": wechat})

    app = Starlette(
        routes=[
            Route("/", index),
            Mount("/idp", create_idp_app(issuer, clients)),
            Mount("/wechat", create_wechat_app(wechat_appid, wechat_secret)),
        ]
    )
    app.state.public_url = public_url
    return app
