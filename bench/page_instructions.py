"""Instructions per page, portal against its ceiling: the one page figure this machine gives
the same twice.

Requests per second and CPU time swing by tens of percent from one run to the next here (a
shared virtual machine: the same ceiling served 861 and 1,172 progress pages a second in two
runs minutes apart), so a change worth 5% cannot be seen in them. Valgrind's callgrind counts
the instructions a process executes, whatever else the machine does: two runs of the same
code agree within 0.2%. What it cannot see is just as important: time in the kernel (the
sockets to PostgreSQL), PostgreSQL's own work, and the cost of cache misses, which make one
of the portal's instructions slower than one of the ceiling's. So the ratio here is a floor
of the portal's extra cost, not its share of the ceiling's throughput (bench/page_throughput.py
measures that); its use is to tell, exactly, whether a change to the portal's Python code
made a page cheaper.

How: the sandbox and a portal are started and 李娜 submits her newborn one-thing as in
bench/page_layers.py; then for each page and target (the portal's app from ``create_app()``,
the ceiling of bench/page_ceiling.py) a child process runs under
``valgrind --tool=callgrind --instr-atstart=no``, serves 100 requests uncounted, switches
counting on (``callgrind_control -i on``), serves ``--requests`` more one at a time as ASGI
calls (no HTTP), and switches it off. Instructions per page = counted ÷ requests (switching
costs ~0.5 M instructions in all, 0.03% of 200 pages).

Usage: `.venv/bin/python bench/page_instructions.py [--pages home guide progress]
[--requests 200] [--db postgres|sqlite]` (about 40 s per page and target). Needs Debian's
valgrind (`make bench` installs it). Results: stdout and bench/results/page_instructions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import page_layers, relay_throughput
from bench._stack import sandbox_and_portal
from bench.page_throughput import PAGES, submit_one
from bench.relay_throughput import ROOT
from portal.db_reads import driver_reads

RESULTS = ROOT / "bench" / "results" / "page_instructions.json"
WARM_UP = 100
TARGETS = ("portal", "ceiling")
relay_throughput.PG_DB = "page_instructions_bench"
relay_throughput.PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/page_instructions_bench"


def counted(page: str, target: str, requests: int, env: dict[str, str]) -> int:
    """Instructions callgrind counted in a child serving ``requests`` of ``page``."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            page,
            target,
            str(requests),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{page} {target}: valgrind failed\n{done.stderr[-3000:]}")
    return int(found.group(1))


async def sessions_kept(app: Any, timeout: float = 60.0) -> None:
    """On PostgreSQL, until the session cache's listener hears (the pages then read no
    session row), as in a served worker a moment after start-up."""
    if not driver_reads(app.state.engine):
        return
    deadline = time.monotonic() + timeout
    while not app.state.session_cache.live:
        if time.monotonic() > deadline:
            raise RuntimeError("the session-change listener did not connect")
        await asyncio.sleep(0.05)


def child(page: str, target: str, requests: int) -> None:
    """Runs under valgrind: serves the page, counted only around the measured requests."""
    from bench.page_ceiling import ceiling_app
    from portal.app import create_app
    from portal.web.gc_freeze import freeze_what_start_up_made

    path, session = os.environ["BENCH_PATH"], os.environ["BENCH_SESSION"]
    app = ceiling_app([path], session) if target == "ceiling" else create_app()
    page_layers.IN_FLIGHT = 1  # one at a time: the same order of events in every run

    def counting(switch: str) -> None:
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True)

    async def serve() -> None:
        if target != "ceiling":
            await page_layers.started(app)
            await sessions_kept(app)
        freeze_what_start_up_made()  # as portal serve's workers do once started
        await page_layers.drive(app, path, session, WARM_UP)
        counting("on")
        await page_layers.drive(app, path, session, requests)
        counting("off")

    asyncio.run(serve())


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    with sandbox_and_portal("page-instructions-", database=args.db) as (setup, _):
        progress, session = submit_one(setup.portal)
        paths = {"home": "/", "guide": "/things/newborn", "progress": progress}
        for page in args.pages:
            env = os.environ | setup.portal_env() | {"BENCH_SESSION": session}
            env["BENCH_PATH"] = paths[page]
            found = {t: counted(page, t, args.requests, env) / args.requests for t in TARGETS}
            out[page] = {
                "portal_instructions": round(found["portal"]),
                "ceiling_instructions": round(found["ceiling"]),
                "ratio": round(found["portal"] / found["ceiling"], 3),
            }
            for target in TARGETS:
                print(f"instructions_{page}_{target}: {found[target] / 1e6:.3f} M", flush=True)
            print(f"instructions_{page}_portal_per_ceiling: {out[page]['ratio']:.3f}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--child", nargs=3, metavar=("PAGE", "TARGET", "REQUESTS"))
    args = parser.parse_args()
    if args.child:
        page, target, requests = args.child
        child(page, target, int(requests))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is missing: `make bench` installs it", file=sys.stderr)
        return 1
    pages = run(args)
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    runs.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "db": args.db,
            "requests": args.requests,
            "pages": pages,
        }
    )
    RESULTS.write_text(json.dumps({"runs": runs}, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
