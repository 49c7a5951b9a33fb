"""Start the portal with uvicorn: ``portal run`` (embedded default) and ``portal serve``."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from portal.app import create_app
from portal.catalog.loader import CatalogError, load_catalog
from portal.db_migrate import upgrade
from portal.settings import Settings
from portal.web import reuse_port
from portal.web.gc_freeze import FreezeAfterStartup
from portal.web.request_id import configure_logging


def serve(host: str | None = None, port: int | None = None, workers: int = 1) -> int:
    # Command-line choices become settings, so every worker (and the base URL) agrees.
    if host:
        os.environ["PORTAL_HOST"] = host
    if port:
        os.environ["PORTAL_PORT"] = str(port)
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    try:  # fail before binding a port, with the named problems rather than a traceback
        load_catalog(settings.catalog_dir)
    except CatalogError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        print(
            f"the catalog has {len(exc.problems)} problem(s); the portal did not start",
            file=sys.stderr,
        )
        return 1
    made = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics must count every worker's requests, whichever worker the scrape reaches.
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")
    options: dict[str, Any] = dict(
        app="portal.server:app_factory",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        loop=settings.event_loop,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        access_log=False,  # RequestIdMiddleware writes the structured access log
        log_config=None,
    )
    reuse_port.run(options, settings.socket_per_worker)
    if made:
        shutil.rmtree(made, ignore_errors=True)
    return 0


def run_embedded(host: str | None = None, port: int | None = None) -> int:
    """The embedded default: migrate the SQLite file, then serve one process."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    return serve(host=host, port=port)


def serve_sandbox(host: str, port: int) -> int:
    """The sandbox alone (issuer http://HOST:PORT/idp), for a portal configured to use it."""
    from portal.app import sandbox_for

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = sandbox_for(settings, public_url=f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None)
    return 0


def app_factory() -> ASGIApp:
    configure_logging(Settings.from_env().log_level)
    return FreezeAfterStartup(create_app())
