"""Signalling through the portal: how fast a WebRTC signalling message (or a chat line's
"look again") gets from one browser's WebSocket to the other's, in one portal process
(in-memory hub) and across two portal processes (Redis pub/sub).

What a call needs: an offer, an answer and a few dozen ICE candidates, once, at the start;
a second of delay would be felt, a few milliseconds are not. The goal (docs/assist.md,
docs/performance.md "Assist signalling"): relay p99 ≤ 50 ms with 50 calls setting up at once
on the 2-core machine, and the cross-process path within 3× the one-process one.

Each configuration runs `portal serve` processes (PORTAL_SANDBOX=false, no relay) on
loopback over one SQLite file (one process) or one PostgreSQL database (two processes);
untimed, it writes P pairs of people, their sign-in sessions and an active assist session per
pair. Timed: every pair's citizen socket sends a `signal`, the assistant's socket answers one
back as soon as it arrives, R times in a row, all pairs at once; each round trip is measured
by the citizen's side (two relays per round trip).

Run: `.venv/bin/python bench/assist_signalling.py --pairs 50 --rounds 40`. Needs Redis on
127.0.0.1:6379 (database 3 by default, `--redis`) and PostgreSQL (`--pg`, a database it
drops and recreates). The last lines are `name: value unit`, one per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import text

from portal import sealed
from portal.db import make_engine, make_sessionmaker
from portal.db_migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.assist.seed import signed_in_pair  # noqa: E402

DATA_KEY = base64.b64encode(b"b" * 32).decode()


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def portals(count: int, database_url: str, redis_url: str) -> Iterator[list[str]]:
    procs, urls = [], []
    for _ in range(count):
        port = _port()
        env = {
            **os.environ,
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_REDIS_URL": redis_url,
            "PORTAL_PORT": str(port),
            "PORTAL_SANDBOX": "false",
            "PORTAL_RELAY_IN_PROCESS": "false",
            "PORTAL_SECRET_KEY": "bench-only",
            "PORTAL_DATA_KEY": DATA_KEY,
            "PORTAL_LOG_LEVEL": "WARNING",
        }
        procs.append(
            subprocess.Popen(
                [str(ROOT / ".venv/bin/portal"), "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url in urls:
            _wait(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


def _wait(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), 0.2):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def _pairs(database_url: str, count: int) -> list[dict[str, str]]:
    """People, their sign-in sessions, an active assist session per pair (untimed)."""
    from auth.crypto import PersonalDataCipher

    sealed.configure(PersonalDataCipher(DATA_KEY))
    engine = make_engine(database_url, 0)
    pairs = []
    async with make_sessionmaker(engine)() as db:
        for _ in range(count):
            tokens = await signed_in_pair(db, "bench")
            pairs.append(tokens)
        await db.commit()
    await engine.dispose()
    return pairs


async def _connect(base: str, session: str, token: str) -> Any:
    socket = await websockets.connect(
        f"{base.replace('http', 'ws')}/assist/ws/{session}",
        origin=base,  # type: ignore[arg-type]
        additional_headers={"cookie": f"session={token}"},
    )
    assert json.loads(await socket.recv())["type"] == "ready"
    return socket


async def _call(
    citizen_url: str, assistant_url: str, pair: dict[str, str], rounds: int
) -> list[float]:
    citizen = await _connect(citizen_url, pair["session"], pair["citizen"])
    assistant = await _connect(assistant_url, pair["session"], pair["assistant"])
    candidate = {
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
        "sdpMid": "0",
    }

    async def echo() -> None:
        for _ in range(rounds):
            message = json.loads(await assistant.recv())
            await assistant.send(json.dumps({"type": "signal", "data": message["data"]}))

    echoing = asyncio.create_task(echo())
    times = []
    for n in range(rounds):
        started = time.perf_counter()
        await citizen.send(
            json.dumps({"type": "signal", "data": {"id": n, "candidate": candidate}})
        )
        while json.loads(await citizen.recv())["data"]["id"] != n:
            pass
        times.append(time.perf_counter() - started)
    await echoing
    await citizen.close()
    await assistant.close()
    return times


async def _measure(urls: list[str], pairs: list[dict[str, str]], rounds: int) -> dict[str, float]:
    first, second = urls[0], urls[-1]
    started = time.perf_counter()
    results = await asyncio.gather(*(_call(first, second, p, rounds) for p in pairs))
    elapsed = time.perf_counter() - started
    times = sorted(t for r in results for t in r)
    return {
        "p50_ms": statistics.median(times) * 1000,
        "p99_ms": times[int(len(times) * 0.99) - 1] * 1000,
        "relays_per_s": 2 * len(times) / elapsed,
    }


def _fresh_pg(url: str) -> None:
    async def reset() -> None:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


def run(
    label: str, processes: int, database_url: str, redis_url: str, args: Any
) -> dict[str, float]:
    upgrade(database_url)
    pairs = asyncio.run(_pairs(database_url, args.pairs))
    with portals(processes, database_url, redis_url) as urls:
        asyncio.run(_measure(urls, pairs[:2], 5))  # warm up: connections, imports
        figures = asyncio.run(_measure(urls, pairs, args.rounds))
    print(f"{label}: " + ", ".join(f"{k}={v:.1f}" for k, v in figures.items()), flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/assist_bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        local = run("one process, in-memory hub (SQLite)", 1, sqlite, "", args)
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", args.pg.rsplit("/", 1)[1]],
        stderr=subprocess.DEVNULL,
        check=False,
    )
    _fresh_pg(args.pg)
    one_redis = run("one process, Redis hub (PostgreSQL)", 1, args.pg, args.redis, args)
    _fresh_pg(args.pg)
    two_redis = run("two processes, Redis hub (PostgreSQL)", 2, args.pg, args.redis, args)
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", args.pg.rsplit("/", 1)[1]], check=False
    )
    print(f"local_p50: {local['p50_ms']:.2f} ms")
    print(f"local_p99: {local['p99_ms']:.2f} ms")
    print(f"local_relays: {local['relays_per_s']:.0f} /s")
    print(f"redis_one_process_p99: {one_redis['p99_ms']:.2f} ms")
    print(f"cross_process_p50: {two_redis['p50_ms']:.2f} ms")
    print(f"cross_process_p99: {two_redis['p99_ms']:.2f} ms")
    print(f"cross_process_relays: {two_redis['relays_per_s']:.0f} /s")
    print(f"cross_over_local_p99: {two_redis['p99_ms'] / local['p99_ms']:.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
