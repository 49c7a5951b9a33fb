"""The whole sandbox in one Starlette app: the identity provider at ``/idp``, the WeChat API
at ``/wechat``, the e-license library at ``/licenses`` and the enterprise registry at
``/registry`` (both JSON APIs under ``/api/v1`` behind the bearer ``api_key``, see
docs/licenses.md), the government platform's intake API at ``/intake`` (docs/intake-api.md,
docs/sandbox-intake.md), the SMS gateway at ``/sms`` (docs/sms-api.md), and an index page
at ``/`` saying what is where.

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
from integrations.sandbox.intake import create_intake_app
from integrations.sandbox.intake_models import IntakeClient
from integrations.sandbox.licenses import create_licenses_app
from integrations.sandbox.people import PEOPLE
from integrations.sandbox.registry import create_registry_app
from integrations.sandbox.sms import create_sms_app
from integrations.sandbox.wechat import create_wechat_app
from portal.catalog.loader import Catalog

DEFAULT_API_KEY = "sandbox-api-key"


def create_sandbox_app(
    public_url: str,
    clients: Sequence[SandboxClient],
    wechat_appid: str,
    wechat_secret: str,
    *,
    api_key: str = DEFAULT_API_KEY,
    intake_clients: Sequence[IntakeClient] = (),
    intake_speed: float = 10.0,
    catalog: Catalog | None = None,
    rating_days: int = 15,
) -> Starlette:
    """``intake_clients`` may use the intake API; one working day of its simulated counter
    and departments lasts ``intake_speed`` seconds; its 一件事 configuration is ``catalog``
    (the portal's own, 同源), by default the catalog loaded when the API first needs it."""
    public_url = public_url.rstrip("/")
    issuer, wechat = f"{public_url}/idp", f"{public_url}/wechat"
    apis = {
        "licenses": f"{public_url}/licenses/api/v1",
        "registry": f"{public_url}/registry/api/v1",
        "intake": f"{public_url}/intake/v1",
        "sms": f"{public_url}/sms/api/v1",
    }
    intake = create_intake_app(
        f"{public_url}/intake", intake_clients, catalog, apis["licenses"], api_key, intake_speed
    )

    intake.state.store.rating_days = rating_days  # the locality's rectification period

    async def index(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        context = {"stylesheet": f"{root}/idp/sandbox.css", "people": PEOPLE, **apis}
        context["intake_stats"] = f"{public_url}/intake/sandbox/stats"
        return pages.render("index.html", {**context, "issuer": issuer, "wechat": wechat})

    app = Starlette(
        routes=[
            Route("/", index),
            Mount("/idp", create_idp_app(issuer, clients)),
            Mount("/wechat", create_wechat_app(wechat_appid, wechat_secret)),
            Mount("/licenses", create_licenses_app(api_key)),
            Mount("/registry", create_registry_app(api_key)),
            Mount("/intake", intake),
            Mount("/sms", create_sms_app(api_key)),
        ]
    )
    app.state.public_url = public_url
    return app
