"""Whether an event loop serves 64 connections alike: a minimal Starlette app (about 1 ms of
CPU and a 20-kB page per request, no database, no template) under uvicorn on Python's own
asyncio loop and on uvloop, alternately, each measured by wrk at 64 connections.

In a closed loop every connection waits for its answer before asking again, so a fair server
gives every request about the same latency (64 ÷ throughput): the p99 should be close to the
p50. uvloop reads and starts new requests ahead of finishing those already started
(MagicStack/uvloop#123), so a few wait far longer. This is why `portal serve` runs on asyncio
(`PORTAL_EVENT_LOOP`, docs/performance.md, seventh round).

Usage: `.venv/bin/python bench/loop_fairness.py [--repeat 3] [--duration 8]`. Results in
`bench/results/loop_fairness.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from bench.relay_throughput import ROOT, free_port

RESULTS = ROOT / "bench" / "results" / "loop_fairness.json"
LOOPS = ("asyncio", "uvloop")
PAGE = "页" * 6_800  # about 20 kB, like a rendered page


async def page(request: Request) -> HTMLResponse:
    digest = b""
    for _ in range(200):  # about 1 ms of CPU, like rendering a small page
        digest = hashlib.sha256(digest + b"x" * 1000).digest()
    return HTMLResponse(PAGE)


app = Starlette(routes=[Route("/", page)])

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, float] = {}
    for name, pattern in (
        ("p50_ms", r"^\s+50%\s+([\d.]+)(us|ms|s)"),
        ("p99_ms", r"^\s+99%\s+([\d.]+)(us|ms|s)"),
        ("longest_ms", r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)"),
    ):
        match = re.search(pattern, out, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"wrk's output lacks {name}:\n{out}")
        found[name] = round(float(match[1]) * UNITS[match[2]], 1)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    if rate is None:
        raise RuntimeError(f"wrk's output lacks Requests/sec:\n{out}")
    found["requests_per_second"] = round(float(rate[1]))
    return found


def answered(url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the {url} server did not start")


def measure(loop: str, seconds: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.loop_fairness:app",
            "--port",
            str(port),
            "--loop",
            loop,
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        answered(url, server)
        wrk(url, 2)  # warm-up
        return wrk(url, seconds)
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds measured per run")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    print("| loop | req/s | p50 ms | p99 ms | longest ms | p99 ÷ p50 |")
    print("|---|---|---|---|---|---|")
    for _ in range(args.repeat):
        for loop in LOOPS:
            found = measure(loop, args.duration)
            runs.append({"loop": loop, **found})
            print(
                f"| {loop} | {found['requests_per_second']} | {found['p50_ms']} "
                f"| {found['p99_ms']} | {found['longest_ms']} "
                f"| {found['p99_ms'] / found['p50_ms']:.1f} |",
                flush=True,
            )
            time.sleep(1)
    for loop in LOOPS:
        ratios = [r["p99_ms"] / r["p50_ms"] for r in runs if r["loop"] == loop]
        rates = [r["requests_per_second"] for r in runs if r["loop"] == loop]
        print(f"{loop}_p99_over_p50: {max(ratios):.1f} ratio (the worst of {len(ratios)})")
        print(f"{loop}_requests_per_second: {sum(rates) / len(rates):.0f} req/s (mean)")
    RESULTS.write_text(
        json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs}, indent=1)
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
