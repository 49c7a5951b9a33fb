"""The garbage collector's youngest threshold against a signed-in page's CPU, in one process.

Usage: `.venv/bin/python bench/gc_threshold.py [--rounds 6] [--requests 1500]
[--thresholds 700 10000]`. The sandbox and one `portal serve` run only to sign 李娜 in and
submit her newborn one-thing; then one app, built with `create_app()` and started as
`portal serve`'s workers are (`gc.freeze()`), serves the home and application pages as ASGI
calls, 64 in flight (bench/page_layers.py), under each threshold in turn, rounds interleaved
(the order reversed every other round). Printed: CPU µs per page of this process (the median,
then each round) and of PostgreSQL. docs/performance.md, "Tenth round": a larger threshold
was tried for `portal serve`'s workers and not kept.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import page_layers
from bench._stack import sandbox_and_portal
from bench.page_throughput import submit_one
from bench.relay_throughput import cpu_snapshot
from portal.web.gc_freeze import freeze_what_start_up_made

WARM_UP = 300


async def measure(
    app: object, paths: dict[str, str], session: str, args: argparse.Namespace
) -> dict[tuple[str, int], list[tuple[float, float]]]:
    await page_layers.started(app)  # type: ignore[arg-type]
    await asyncio.sleep(0.5)
    freeze_what_start_up_made()
    _, middle, oldest = gc.get_threshold()
    found: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        order = args.thresholds if round_ % 2 == 0 else args.thresholds[::-1]
        for young in order:
            gc.set_threshold(young, middle, oldest)
            for page, path in paths.items():
                await page_layers.drive(app, path, session, WARM_UP)  # type: ignore[arg-type]
                before, clock = cpu_snapshot({}), time.process_time()
                await page_layers.drive(app, path, session, args.requests)  # type: ignore[arg-type]
                used = time.process_time() - clock
                database = cpu_snapshot({})["postgres"] - before["postgres"]
                found.setdefault((page, young), []).append(
                    (1e6 * used / args.requests, 1e6 * database / args.requests)
                )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--thresholds", type=int, nargs="+", default=[700, 10_000])
    args = parser.parse_args()
    with sandbox_and_portal("gc-threshold-", database="postgres") as (setup, _):
        progress, session = submit_one(setup.portal)
        os.environ.update(setup.portal_env())
        from portal.app import create_app

        app = create_app()
        paths = {"home": "/", "progress": progress}
        found = asyncio.run(measure(app, paths, session, args))
    for (page, young), rounds in sorted(found.items()):
        own = statistics.median(r[0] for r in rounds)
        database = statistics.median(r[1] for r in rounds)
        each = ", ".join(f"{r[0]:.0f}" for r in rounds)
        print(f"{page:9} young {young:>6}: {own:.0f} µs ({each}); PostgreSQL {database:.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
