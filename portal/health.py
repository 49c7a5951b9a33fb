"""Operational endpoints: /healthz (is the database reachable) and /metrics (Prometheus,
with the outbox backlog read from the database at each scrape)."""

from __future__ import annotations

import logging

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.db import ping
from portal.relay import outbox
from portal.web.metrics import exposition

log = logging.getLogger(__name__)


async def healthz(request: Request) -> Response:
    try:
        await ping(request.app.state.engine)
    except Exception:
        log.exception("health check: database unreachable")
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def metrics(request: Request) -> Response:
    metrics = request.app.state.metrics
    async with request.app.state.sessionmaker() as db:
        found = await outbox.backlog(db)
    metrics.outbox_pending.set(found.pending)
    metrics.outbox_failed.set(found.failed)
    metrics.outbox_oldest_age.set(found.oldest_age_seconds)
    return Response(exposition(metrics), media_type=CONTENT_TYPE_LATEST)


routes = [
    Route("/healthz", healthz, name="healthz"),
    Route("/metrics", metrics, name="metrics"),
]
