"""Build the portal: ``create_app(settings)`` wires explicit routes and middleware."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx2
from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from auth import routes as auth_routes
from auth.actor import ACTOR_LOADER
from auth.crypto import PersonalDataCipher
from auth.guards import SignInRequired, sign_in_redirect
from auth.oidc import make_oauth
from integrations.keepalive import KeepAliveTransport
from integrations.sandbox import IntakeClient, SandboxClient, create_sandbox_app
from integrations.tls import shared_context
from integrations.wechat import WeChatGateway
from portal import health, sealed
from portal.agents import routes as agents_routes
from portal.applications import progress_routes, webhook_routes
from portal.applications import routes as applications_routes
from portal.applications.progress_pages import ProgressCache, ProgressPages
from portal.assist import console as assist_console
from portal.assist import live as assist_live
from portal.assist import routes as assist_routes
from portal.assist import session_routes as assist_session_routes
from portal.assist.hub import make_hub
from portal.catalog import routes as catalog_routes
from portal.catalog.loader import Catalog, load_catalog
from portal.catalog.services import CatalogService
from portal.db import make_engine, make_sessionmaker
from portal.db_errors import database_unavailable
from portal.db_reads import driver_reads
from portal.notifications import routes as notifications_routes
from portal.preferences import routes as preferences_routes
from portal.profile import routes as profile_routes
from portal.ratings import routes as ratings_routes
from portal.relay.runner import relay_for
from portal.settings import Settings
from portal.static_files import CachedStaticFiles
from portal.templating import STATIC_DIR, Templates
from portal.wallet import public_routes as wallet_public_routes
from portal.wallet import routes as wallet_routes
from portal.web.csrf import CsrfMiddleware
from portal.web.db_changes import listening
from portal.web.locale import LocaleMiddleware
from portal.web.metrics import Metrics, MetricsMiddleware
from portal.web.preferences import PreferencesMiddleware
from portal.web.ratelimit import RateLimiter, Rule, counter_for
from portal.web.request_id import RequestIdMiddleware
from portal.web.routing import IndexedRouter
from portal.web.security_headers import SecurityHeadersMiddleware
from portal.web.session_cache import SessionCache
from portal.web.sessions import SessionMiddleware
from portal.web.shedding import ConcurrencyLimitMiddleware
from portal.web.unavailable import RETRY_AFTER, DatabaseUnavailableMiddleware

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    # Load the catalog first: a broken YAML file must stop start-up with its named error.
    catalog = CatalogService(load_catalog(settings.catalog_dir))
    engine = make_engine(settings.database_url, settings.database_pool_size)
    sessionmaker = make_sessionmaker(engine)
    templates = Templates()
    metrics = Metrics()
    cipher = PersonalDataCipher(settings.data_key)
    # Kept only while this process hears every change: PostgreSQL (LISTEN/NOTIFY).
    session_cache = SessionCache(settings.session_cache_seconds, settings.session_cache_entries)
    progress_cache = ProgressCache(settings.progress_cache_seconds, settings.progress_cache_entries)
    caches = [c for c in (session_cache, progress_cache) if driver_reads(engine) and c.enabled]

    async def reject_csrf(request: Request, problem: str) -> Response:
        return templates.render(request, "errors/csrf.html", {"problem": problem}, status_code=403)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        response = templates.render(
            request, "errors/error.html", {"status": status}, status_code=status
        )
        # Keep what the exception says about the request (a 405's Allow, RFC 9110).
        response.headers.update(getattr(exc, "headers", None) or {})
        return response

    async def unavailable(request: Request) -> Response:
        response = templates.render(request, "errors/error.html", {"status": 503}, status_code=503)
        response.headers["retry-after"] = RETRY_AFTER
        return response

    async def busy(request: Request) -> Response:
        response = templates.render(
            request, "errors/error.html", {"status": 503, "busy": True}, status_code=503
        )
        response.headers["retry-after"] = RETRY_AFTER
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        if database_unavailable(exc):  # failed outside DatabaseUnavailableMiddleware's reach
            log.warning("database unavailable: %s", type(exc).__name__)
            return await unavailable(request)
        log.exception("unhandled error", exc_info=exc)
        return templates.render(request, "errors/error.html", {"status": 500}, status_code=500)

    oidc_transport = KeepAliveTransport(settings.oidc_issuer_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.redis_url:  # a Redis connection belongs to the loop that opened it
            app.state.assist_hub = make_hub(settings.redis_url)
        async with contextlib.AsyncExitStack() as stack:
            # Keep-alive connections to the e-license library, owned by this loop.
            app.state.licenses_http = await stack.enter_async_context(
                httpx2.AsyncClient(verify=shared_context())
            )
            app.state.licenses_loop = asyncio.get_running_loop()
            # The identity provider's keep-alive connections, owned by this loop too.
            await oidc_transport.open()
            stack.push_async_callback(oidc_transport.close)
            if caches:
                await stack.enter_async_context(
                    listening(engine, caches, metrics.changes_listening.set, settings.changes_url)
                )
            if settings.relay_in_process:
                await stack.enter_async_context(in_process_relay(app))
            yield
        app.state.licenses_http = None  # closed with the stack: calls go back to one-off clients
        if settings.redis_url:
            await app.state.assist_hub.close()
        await app.state.limiter.aclose()
        await engine.dispose()

    routes = [
        *catalog_routes.routes,
        *preferences_routes.routes,
        *auth_routes.routes,
        *profile_routes.routes,
        *agents_routes.routes,
        *applications_routes.routes,
        *progress_routes.routes,
        *ratings_routes.routes,
        *webhook_routes.routes,
        *notifications_routes.routes,
        *wallet_routes.routes,
        *wallet_public_routes.routes,
        *assist_routes.routes,
        *assist_session_routes.routes,
        *assist_console.routes,
        *assist_live.routes,
        *health.routes,
        Mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static"),
    ]
    if settings.sandbox:
        routes.append(
            Mount("/sandbox", sandbox_for(settings, catalog=catalog.catalog), name="sandbox")
        )
    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(SecurityHeadersMiddleware, https=settings.https),
        Middleware(GZipMiddleware, minimum_size=500),
        Middleware(LocaleMiddleware, default=settings.default_locale, https=settings.https),
        Middleware(PreferencesMiddleware, https=settings.https),
        # Inside the language and display choices, so a 503 speaks the person's language.
        Middleware(
            ConcurrencyLimitMiddleware,
            limit=settings.max_requests_in_flight,
            render=busy,
            metrics=metrics,
        ),
        Middleware(DatabaseUnavailableMiddleware, render=unavailable),
        Middleware(
            CsrfMiddleware,
            https=settings.https,
            reject=reject_csrf,
            # Webhooks carry their own signatures; the sandbox stands in for outside systems.
            exempt_prefixes=("/webhooks/", "/sandbox/"),
            max_body_bytes=settings.max_body_bytes,
        ),
        Middleware(
            SessionMiddleware,
            sessionmaker=sessionmaker,
            https=settings.https,
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_max_hours),
            cipher=cipher,
            loaders=[ACTOR_LOADER],
            cache=session_cache if session_cache in caches else None,
            reads=counted(metrics.session_reads),
        ),
    ]
    app = Starlette(
        middleware=middleware,
        exception_handlers={
            HTTPException: http_error,
            SignInRequired: sign_in_redirect,
            Exception: server_error,
        },
    )
    app.router = IndexedRouter(routes, lifespan=lifespan)  # Starlette's, searched by segment
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.templates = templates
    app.state.metrics = metrics
    app.state.oauth = make_oauth(settings, oidc_transport)
    app.state.cipher = cipher
    app.state.session_cache = session_cache
    app.state.progress_pages = ProgressPages(
        engine,
        progress_cache if progress_cache in caches else None,
        counted(metrics.progress_reads),
    )
    sealed.configure(app.state.cipher)
    app.state.assist_hub = make_hub(settings.redis_url)
    app.state.limiter = RateLimiter(
        counter_for(sessionmaker, settings.redis_url),
        settings.secret_key,
        {
            "sign_in": Rule.parse(settings.sign_in_rate_limit),
            "lookup": Rule.parse(settings.lookup_rate_limit),
        },
    )
    app.state.wechat = WeChatGateway(
        settings.wechat_api_url,
        settings.wechat_appid,
        settings.wechat_secret,
        redis_url=settings.redis_url,
    )
    return app


def counted(reads: Counter) -> Callable[[str], None]:
    """Counts a kept read by its source, "cache" or "database"."""
    counters = {source: reads.labels(source) for source in ("cache", "database")}
    return lambda source: counters[source].inc()


def sandbox_for(
    settings: Settings, public_url: str | None = None, catalog: Catalog | None = None
) -> Starlette:
    """The sandbox (mounted at /sandbox, or alone at ``public_url``), with the portal
    registered as its OIDC client."""
    client = SandboxClient(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        redirect_uris=[f"{settings.base_url}/auth/callback"],
        post_logout_redirect_uris=[f"{settings.base_url}/auth/logged-out"],
    )
    intake = IntakeClient(
        client_id=settings.intake_client_id,
        client_secret=settings.intake_client_secret,
        webhook_url=f"{settings.base_url}/webhooks/intake",
        webhook_secrets=settings.intake_webhook_secrets,
    )
    return create_sandbox_app(
        public_url or f"{settings.base_url}/sandbox",
        [client],
        settings.wechat_appid,
        settings.wechat_secret,
        api_key=settings.integrations_api_key,
        intake_clients=[intake],
        intake_speed=settings.sandbox_day_seconds,
        catalog=catalog or load_catalog(settings.catalog_dir),
        rating_days=settings.rating_rectify_days,
    )


@contextlib.asynccontextmanager
async def in_process_relay(app: Starlette) -> AsyncIterator[None]:
    """One relay worker beside the web server (SQLite demo, small installs)."""
    state = app.state
    async with relay_for(state.settings, state.sessionmaker, state.cipher, state.metrics) as relay:
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        state.relay = relay.worker
        try:
            yield
        finally:
            stop.set()
            await task
