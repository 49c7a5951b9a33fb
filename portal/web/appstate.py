"""Typed access to what ``create_app`` puts on ``app.state``, for thin handlers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.requests import HTTPConnection

from integrations.licenses import LicenseLibrary

if TYPE_CHECKING:
    from auth.crypto import PersonalDataCipher
    from integrations.wechat import WeChatGateway
    from portal.applications.progress_pages import ProgressPages
    from portal.catalog.services import CatalogService
    from portal.settings import Settings
    from portal.templating import Templates
    from portal.web.ratelimit import RateLimiter


def settings(request: HTTPConnection) -> Settings:
    value: Settings = request.app.state.settings
    return value


def templates(request: HTTPConnection) -> Templates:
    value: Templates = request.app.state.templates
    return value


def database(request: HTTPConnection) -> async_sessionmaker[Any]:
    value: async_sessionmaker[Any] = request.app.state.sessionmaker
    return value


def engine(request: HTTPConnection) -> AsyncEngine:
    """For Core reads on a bare connection (no ORM session) on hot pages."""
    value: AsyncEngine = request.app.state.engine
    return value


def cipher(request: HTTPConnection) -> PersonalDataCipher:
    value: PersonalDataCipher = request.app.state.cipher
    return value


def progress_pages(request: HTTPConnection) -> ProgressPages:
    value: ProgressPages = request.app.state.progress_pages
    return value


def oauth(request: HTTPConnection) -> Any:
    """Authlib's OAuth registry (untyped library)."""
    return request.app.state.oauth


def wechat(request: HTTPConnection) -> WeChatGateway:
    value: WeChatGateway = request.app.state.wechat
    return value


def catalog(request: HTTPConnection) -> CatalogService:
    value: CatalogService = request.app.state.catalog
    return value


def limiter(request: HTTPConnection) -> RateLimiter:
    value: RateLimiter = request.app.state.limiter
    return value


def license_library(request: HTTPConnection) -> LicenseLibrary:
    """The e-license library, over the process's keep-alive client while the app runs (a
    connection per call was a third of a loaded worker's CPU: docs/load.md)."""
    s = settings(request)
    http = getattr(request.app.state, "licenses_http", None)
    if http is not None and request.app.state.licenses_loop is not asyncio.get_running_loop():
        http = None  # its connections belong to another loop (tests run apps on several)
    return LicenseLibrary(s.licenses_api_url, s.integrations_api_key, http=http)


def client_address(request: HTTPConnection) -> str:
    """The client's address (the load balancer's X-Forwarded-For, when trusted)."""
    return request.client.host if request.client else "unknown"


def wake_relay(request: HTTPConnection) -> None:
    """An outbox row was just committed: the in-process relay (if this process runs one)
    looks now instead of at its next poll."""
    relay = getattr(request.app.state, "relay", None)
    if relay is not None:
        relay.wake()
