"""Prometheus metrics, served at /metrics: requests per endpoint, the relay and its outbox,
webhooks received."""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """One registry per app, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "portal_http_requests",
            "HTTP requests served",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "portal_http_request_duration_seconds",
            "Time to serve a request",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.relay_attempts = Counter(
            "portal_relay_attempts",
            "Outbox deliveries tried, by topic and outcome (sent, retry, failed)",
            ["topic", "outcome"],
            registry=self.registry,
        )
        self.relay_lag = Histogram(
            "portal_relay_lag_seconds",
            "From the outbox row's creation to its delivery",
            ["topic"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600),
        )
        self.outbox_pending = Gauge(
            "portal_outbox_pending",
            "Outbox rows not delivered yet",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_failed = Gauge(
            "portal_outbox_failed",
            "Outbox rows that failed for good",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.outbox_oldest_age = Gauge(
            "portal_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not delivered yet",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.session_reads = Counter(
            "portal_session_reads",
            "Session rows signed-in requests needed, by where they came from (cache, database)",
            ["source"],
            registry=self.registry,
        )
        self.progress_reads = Counter(
            "portal_progress_reads",
            "Application pages' rows, by where they came from (cache, database)",
            ["source"],
            registry=self.registry,
        )
        self.changes_listening = Gauge(
            "portal_changes_listening",
            "1 while this process hears the database's changes and may keep session rows "
            "and application pages, else 0",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.shed = Counter(
            "portal_http_requests_shed",
            "Requests answered 503 at once because the process had its limit in flight "
            "(PORTAL_MAX_REQUESTS_IN_FLIGHT)",
            registry=self.registry,
        )
        self.webhooks = Counter(
            "portal_webhooks",
            "Intake webhooks received, by outcome (applied, stale, duplicate, unknown, "
            "bad_signature, stale_timestamp, malformed)",
            ["outcome"],
            registry=self.registry,
        )


def exposition(metrics: Metrics) -> bytes:
    """The text a scrape gets. With several worker processes behind one port
    (``PROMETHEUS_MULTIPROC_DIR`` set, as ``portal serve --workers N`` does) any worker may
    answer, so it answers for all of them from their shared files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(metrics.registry)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            endpoint = scope.get("endpoint")
            # Label by endpoint name, never by raw path: paths would explode the label set.
            name = getattr(endpoint, "__name__", "unmatched")
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)
