"""The whole sandbox in one Starlette app: the identity provider at ``/idp``, the WeChat API
at ``/wechat``, the e-license library at ``/licenses`` and the enterprise registry at
``/registry`` (both JSON APIs under ``/api/v1`` behind the bearer ``api_key``, see
docs/licenses.md), and an index page at ``/`` saying what is where.

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
from integrations.sandbox.licenses import create_licenses_app
from integrations.sandbox.people import PEOPLE
from integrations.sandbox.registry import create_registry_app
from integrations.sandbox.wechat import create_wechat_app

DEFAULT_API_KEY = "sandbox-api-key"


def create_sandbox_app(
    public_url: str,
    clients: Sequence[SandboxClient],
    wechat_appid: str,
    wechat_secret: str,
    *,
    api_key: str = DEFAULT_API_KEY,
) -> Starlette:
    public_url = public_url.rstrip("/")
    issuer, wechat = f"{public_url}/idp", f"{public_url}/wechat"
    apis = {
        "licenses": f"{public_url}/licenses/api/v1",
        "registry": f"{public_url}/registry/api/v1",
    }

    async def index(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        context = {"stylesheet": f"{root}/idp/sandbox.css", "people": PEOPLE, **apis}
        return pages.render("index.html", {**context, "issuer": issuer, "wechat": wechat})

    app = Starlette(
        routes=[
            Route("/", index),
            Mount("/idp", create_idp_app(issuer, clients)),
            Mount("/wechat", create_wechat_app(wechat_appid, wechat_secret)),
            Mount("/licenses", create_licenses_app(api_key)),
            Mount("/registry", create_registry_app(api_key)),
        ]
    )
    app.state.public_url = public_url
    return app
