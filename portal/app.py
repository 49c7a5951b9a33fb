"""Build the portal: ``create_app(settings)`` wires explicit routes and middleware."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from portal import health
from portal.catalog import routes as catalog_routes
from portal.catalog.loader import load_catalog
from portal.catalog.services import CatalogService
from portal.db import make_engine, make_sessionmaker
from portal.preferences import routes as preferences_routes
from portal.settings import Settings
from portal.static_files import CachedStaticFiles
from portal.templating import STATIC_DIR, Templates
from portal.web.csrf import CsrfMiddleware
from portal.web.locale import LocaleMiddleware
from portal.web.metrics import Metrics, MetricsMiddleware
from portal.web.preferences import PreferencesMiddleware
from portal.web.request_id import RequestIdMiddleware
from portal.web.security_headers import SecurityHeadersMiddleware
from portal.web.sessions import SessionMiddleware

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    # Load the catalog first: a broken YAML file must stop start-up with its named error.
    catalog = CatalogService(load_catalog(settings.catalog_dir))
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    templates = Templates()
    metrics = Metrics()

    async def reject_csrf(request: Request, problem: str) -> Response:
        return templates.render(request, "errors/csrf.html", {"problem": problem}, status_code=403)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return templates.render(
            request, "errors/error.html", {"status": status}, status_code=status
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return templates.render(request, "errors/error.html", {"status": 500}, status_code=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    routes = [
        *catalog_routes.routes,
        *preferences_routes.routes,
        *health.routes,
        Mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(SecurityHeadersMiddleware, https=settings.https),
        Middleware(GZipMiddleware, minimum_size=500),
        Middleware(LocaleMiddleware, default=settings.default_locale, https=settings.https),
        Middleware(PreferencesMiddleware, https=settings.https),
        Middleware(
            CsrfMiddleware,
            https=settings.https,
            reject=reject_csrf,
            exempt_prefixes=("/webhooks/",),
            max_body_bytes=settings.max_body_bytes,
        ),
        Middleware(
            SessionMiddleware,
            sessionmaker=sessionmaker,
            https=settings.https,
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_max_hours),
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.templates = templates
    app.state.metrics = metrics
    return app
