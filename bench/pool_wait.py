"""How long signed-in requests wait for a database connection, with the portal's pool
(first come, first served: portal/db_pool.py) and with SQLAlchemy's own asyncio pool, in one
run: the portal's app in this process, driven by ASGI calls with 64 in flight on its 15
connections (no HTTP), the two apps' rounds interleaved.

Usage: `.venv/bin/python bench/pool_wait.py [--db postgres|sqlite] [--requests 3000]
[--rounds 2]`. Prints, per pool and page, the checkouts' wait: mean, p50, p99 and the
longest, and how many requests were answered 503 (a wait past the pool's 10-s timeout).
Results in `bench/results/pool_wait.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool
from starlette.types import ASGIApp

from bench import page_layers
from bench._stack import sandbox_and_portal
from bench.page_throughput import submit_one
from bench.relay_throughput import ROOT

RESULTS = ROOT / "bench" / "results" / "pool_wait.json"
POOLS = ("first come, first served", "SQLAlchemy's")
WAITS: dict[int, list[float]] = {}  # per pool (its id): every checkout's wait, in seconds


@contextmanager
def timed_checkouts() -> Iterator[None]:
    original: Callable[[QueuePool], Any] = QueuePool._do_get

    def timed(pool: QueuePool) -> Any:
        began = time.perf_counter()
        try:
            return original(pool)
        finally:
            WAITS.setdefault(id(pool), []).append(time.perf_counter() - began)

    QueuePool._do_get = timed  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        QueuePool._do_get = original  # type: ignore[method-assign,assignment]


def build() -> dict[str, ASGIApp]:
    from portal import db
    from portal.app import create_app

    apps: dict[str, ASGIApp] = {POOLS[0]: create_app()}
    names = vars(db)  # the name make_engine looks up, swapped while the second app is built
    fair = names["FirstComeFirstServedPool"]
    names["FirstComeFirstServedPool"] = AsyncAdaptedQueuePool
    try:
        apps[POOLS[1]] = create_app()
    finally:
        names["FirstComeFirstServedPool"] = fair
    return apps


def summary(waits: list[float], unavailable: int, seconds: float, requests: int) -> dict[str, Any]:
    ordered = sorted(waits)
    return {
        "requests_per_second": round(requests / seconds),
        "checkouts": len(ordered),
        "mean_ms": round(1000 * sum(ordered) / len(ordered), 1),
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 1),
        "p99_ms": round(1000 * ordered[int(len(ordered) * 0.99)], 1),
        "longest_ms": round(1000 * ordered[-1], 1),
        "answered_503": unavailable,
    }


async def measure(
    apps: dict[str, ASGIApp], paths: dict[str, str], session: str, requests: int, rounds: int
) -> dict[str, dict[str, Any]]:
    for app in apps.values():
        await page_layers.started(app)
    pools = {name: id(app.state.engine.pool) for name, app in apps.items()}  # type: ignore[attr-defined]
    found: dict[tuple[str, str], tuple[list[float], int, float]] = {}
    for _ in range(rounds):
        for page, path in paths.items():
            for name, app in apps.items():
                await page_layers.drive(app, path, session, page_layers.WARM_UP)
                WAITS.pop(pools[name], None)
                began = time.perf_counter()
                unavailable = await drive_counting_503(app, path, session, requests)
                took = time.perf_counter() - began
                waits, before, seconds = found.get((page, name), ([], 0, 0.0))
                found[(page, name)] = (
                    waits + WAITS.pop(pools[name], []),
                    before + unavailable,
                    seconds + took,
                )
    out: dict[str, dict[str, Any]] = {}
    for (page, name), (waits, unavailable, seconds) in found.items():
        out.setdefault(page, {})[name] = summary(waits, unavailable, seconds, requests * rounds)
    return out


async def drive_counting_503(app: ASGIApp, path: str, session: str, count: int) -> int:
    """page_layers.drive, but a 503 (a wait past the pool's timeout) is counted, not fatal."""
    unavailable = 0

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            nonlocal unavailable
            if message["type"] == "http.response.start" and message["status"] == 503:
                unavailable += 1
                message = {**message, "status": 200}
            await send(message)

        await app(scope, receive, watch)

    await page_layers.drive(counting, path, session, count)
    return unavailable


def run(args: argparse.Namespace) -> dict[str, Any]:
    with sandbox_and_portal("pool-wait-", database=args.db) as (setup, _), timed_checkouts():
        progress, session = submit_one(setup.portal)
        os.environ.update(setup.portal_env())
        paths = {"home": "/", "progress": progress}
        apps = build()
        return asyncio.run(measure(apps, paths, session, args.requests, args.rounds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results = run(args)
    print("| page | pool | req/s | checkouts | wait mean / p50 / p99 / longest, ms | 503 |")
    print("|---|---|---|---|---|---|")
    for page, pools in results.items():
        for name, s in pools.items():
            print(
                f"| {page} | {name} | {s['requests_per_second']} | {s['checkouts']} "
                f"| {s['mean_ms']} / {s['p50_ms']} / {s['p99_ms']} / {s['longest_ms']} "
                f"| {s['answered_503']} |"
            )
    for page, pools in results.items():
        for name, s in pools.items():
            tag = f"{page}_{'fair' if name == POOLS[0] else 'sqlalchemy'}"
            print(f"{tag}_wait_p99: {s['p99_ms']} ms")
            print(f"{tag}_wait_longest: {s['longest_ms']} ms")
    RESULTS.write_text(
        json.dumps(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "db": args.db,
                "requests": args.requests,
                "rounds": args.rounds,
                "pages": results,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
