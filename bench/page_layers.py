"""Where a signed-in page's cost goes beyond the template: the portal's app in this process,
whole and with one group of middleware left out at a time, beside the ceiling
(bench/page_ceiling.py), each driven by ASGI calls with 64 in flight (no HTTP, no uvicorn).

Usage: `.venv/bin/python bench/page_layers.py [--db postgres|sqlite] [--requests 2000]
[--rounds 3] [--without "CsrfMiddleware" ...] [--setting "PORTAL_X=value" ...] [--freeze]
[--keep]`. The sandbox and one `portal serve` run as processes only to sign 李娜 in and
submit her newborn one-thing; then every variant is built with `create_app()` from the same
settings (`--setting`: but those). Per variant and page: CPU µs per request of this process
and of PostgreSQL (its backends for the bench database and its own processes), the median of
the rounds, rounds interleaved; and the garbage collector's share of it, with the count of
full collections and the longest (`--freeze`: `gc.freeze()` first, as `portal serve`'s
workers do once started). Results in `bench/results/page_layers.json` (with `--keep`, added
to the runs already there).

A page rendered without a middleware is not a page anyone would serve (no language, no
CSRF token): the figures say what a layer costs, not what to remove. Up to three variants
besides the whole app per run: each holds a pool of up to 15 PostgreSQL connections.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette import applications
from starlette.types import ASGIApp, Message

from bench import relay_throughput
from bench._stack import sandbox_and_portal
from bench.page_throughput import submit_one
from bench.relay_throughput import ROOT, cpu_snapshot
from portal.web.gc_freeze import freeze_what_start_up_made

RESULTS = ROOT / "bench" / "results" / "page_layers.json"
IN_FLIGHT = 64
WARM_UP = 200
RUNNING: set[asyncio.Future[None]] = set()  # the apps' lifespans, kept from the collector
relay_throughput.PG_DB = "page_layers_bench"
relay_throughput.PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/page_layers_bench"


@contextmanager
def middleware_left_out(names: frozenset[str]) -> Iterator[None]:
    """While building an app: Starlette drops the middleware classes named."""
    original = applications.Starlette.__init__

    def init(self: applications.Starlette, **kw: Any) -> None:  # create_app names them all
        kw["middleware"] = [m for m in kw.get("middleware") or [] if m.cls.__name__ not in names]
        original(self, **kw)

    applications.Starlette.__init__ = init  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        applications.Starlette.__init__ = original  # type: ignore[method-assign]


async def drive(app: ASGIApp, path: str, session: str, count: int) -> None:
    """``count`` GETs of ``path`` with the session cookie, ``IN_FLIGHT`` at a time."""
    headers = [(b"host", b"127.0.0.1"), (b"cookie", f"session={session}".encode())]

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def one() -> None:
        status: list[int] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"{path}: {status}")

    gate = asyncio.Semaphore(IN_FLIGHT)

    async def gated() -> None:
        async with gate:
            await one()

    await asyncio.gather(*(gated() for _ in range(count)))


async def started(app: ASGIApp) -> None:
    """Runs the app's lifespan start-up (its shutdown is left to the process's end)."""
    events: asyncio.Queue[Message] = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    ready = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            ready.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    RUNNING.add(asyncio.ensure_future(app(scope, events.get, send)))
    await asyncio.wait_for(ready.wait(), 60)


async def measure(
    apps: dict[str, ASGIApp], paths: dict[str, str], session: str, requests: int, rounds: int
) -> dict[str, dict[str, dict[str, float]]]:
    samples: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
    postgres = relay_throughput.PG_URL in os.environ["PORTAL_DATABASE_URL"]
    collector = Collections()
    gc.callbacks.append(collector)
    try:
        for _ in range(rounds):
            for page, path in paths.items():
                for name, app in apps.items():
                    collector.measuring = None
                    await drive(app, path, session, WARM_UP)
                    before, clock = cpu_snapshot({}), time.process_time()
                    collector.reset()
                    collector.measuring = (page, name)
                    await drive(app, path, session, requests)
                    used = time.process_time() - clock
                    after = cpu_snapshot({})
                    database = after["postgres"] - before["postgres"] if postgres else 0.0
                    samples.setdefault((page, name), []).append(
                        (
                            1e6 * used / requests,
                            1e6 * database / requests,
                            1e6 * collector.seconds / requests,
                            collector.full,
                        )
                    )
    finally:
        gc.callbacks.remove(collector)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (page, name), found in samples.items():
        own = statistics.median(s[0] for s in found)
        database = statistics.median(s[1] for s in found)
        out.setdefault(page, {})[name] = {
            "process_us": round(own),
            "postgres_us": round(database),
            "total_us": round(own + database),
            "gc_us": round(statistics.median(s[2] for s in found), 1),
            "full_collections": sum(s[3] for s in found),
            "longest_full_collection_ms": round(
                1000 * collector.longest_full.get((page, name), 0.0)
            ),
        }
    return out


class Collections:
    """The garbage collector's time while a page is driven (a ``gc.callbacks`` entry)."""

    def __init__(self) -> None:
        self.longest_full: dict[tuple[str, str], float] = {}
        self.measuring: tuple[str, str] | None = None  # (page, app); None while warming up
        self.reset()

    def reset(self) -> None:
        self.seconds, self.full, self.began = 0.0, 0, 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.began = time.perf_counter()
            return
        took = time.perf_counter() - self.began
        if self.measuring is None:
            return
        self.seconds += took
        if info["generation"] == 2:
            self.full += 1
            longest = self.longest_full.get(self.measuring, 0.0)
            self.longest_full[self.measuring] = max(longest, took)


@contextmanager
def environment(settings: list[str]) -> Iterator[None]:
    """While building an app: these ``PORTAL_X=value`` settings in the environment."""
    saved = dict(os.environ)
    os.environ.update(setting.split("=", 1) for setting in settings)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build(
    variants: list[str], settings: list[str], paths: dict[str, str], session: str
) -> dict[str, ASGIApp]:
    from bench.page_ceiling import ceiling_app
    from portal.app import create_app

    apps: dict[str, ASGIApp] = {"ceiling": ceiling_app(list(paths.values()), session)}
    apps["portal"] = create_app()
    for variant in variants:
        with middleware_left_out(frozenset(variant.split(","))):
            apps[f"portal without {variant}"] = create_app()
    for setting in settings:
        with environment(setting.split(",")):
            apps[f"portal with {setting}"] = create_app()
    return apps


def run(args: argparse.Namespace) -> dict[str, Any]:
    with sandbox_and_portal("page-layers-", database=args.db) as (setup, _):
        progress, session = submit_one(setup.portal)
        os.environ.update(setup.portal_env())
        paths = {"home": "/", "guide": "/things/newborn", "progress": progress}
        apps = build(args.without, args.setting, paths, session)

        async def measured() -> dict[str, Any]:
            for app in apps.values():
                if app is not apps["ceiling"]:
                    await started(app)
            if args.freeze:  # as portal serve's workers do once started
                freeze_what_start_up_made()
            return await measure(apps, paths, session, args.requests, args.rounds)

        return asyncio.run(measured())


def table(results: dict[str, Any]) -> Iterator[str]:
    yield (
        "| page | app | this process, µs | PostgreSQL, µs | total, µs | − whole portal, µs "
        "| garbage collector, µs | full collections (longest, ms) |"
    )
    yield "|---|---|---|---|---|---|---|---|"
    for page, found in results.items():
        whole = found["portal"]["total_us"]
        for name, figures in found.items():
            delta = "" if name in ("portal", "ceiling") else f"{figures['total_us'] - whole:+d}"
            yield (
                f"| {page} | {name} | {figures['process_us']} | {figures['postgres_us']} "
                f"| {figures['total_us']} | {delta} | {figures['gc_us']} "
                f"| {figures['full_collections']} ({figures['longest_full_collection_ms']}) |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        help="middleware class names, comma-separated, left out of one variant (at most 3)",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        help="PORTAL_X=value settings, comma-separated, of one more variant (at most 3 in all)",
    )
    parser.add_argument(
        "--freeze", action="store_true", help="gc.freeze() once the apps have started"
    )
    parser.add_argument(
        "--keep", action="store_true", help="add this run to the results file's earlier runs"
    )
    args = parser.parse_args()
    if len(args.without) + len(args.setting) > 3:
        parser.error("at most three variants per run (each holds its own connection pool)")
    results = run(args)
    for line in table(results):
        print(line)
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() and args.keep else []
    runs.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "db": args.db,
            "requests": args.requests,
            "rounds": args.rounds,
            "freeze": args.freeze,
            "pages": results,
        }
    )
    RESULTS.write_text(json.dumps({"runs": runs}, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
