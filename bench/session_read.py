"""The read every signed-in page makes (the session row joined to its person), 64 at a time
in one process, four ways, in alternating rounds of one run: through SQLAlchemy
(``engine.connect()``, ``BEGIN``, the ``SELECT``, ``ROLLBACK``) or through ``portal.db_reads``
(the driver, the ``SELECT`` alone), each with the pool as ``portal.db`` makes it (a burst's
connections kept) or with SQLAlchemy's overflow (closed again on return).

Reported per read: this process's CPU, PostgreSQL's CPU (backends still running plus those
that exited, so run it with nothing else using the server), and the PostgreSQL connections
opened. PostgreSQL only (SQLite reads through SQLAlchemy either way).

    .venv/bin/python bench/session_read.py [--reads 2000] [--rounds 4]

Uses the database `bench_session_read` on 127.0.0.1 (dropped and recreated).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402
from sqlalchemy import bindparam, insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine  # noqa: E402

from auth.actor import ACTOR_LOADER  # noqa: E402
from auth.models import Person  # noqa: E402
from bench.relay_throughput import CLK_TCK, _reaped, _stat  # noqa: E402
from portal import clock  # noqa: E402
from portal.db import POOL_TIMEOUT_SECONDS, make_engine  # noqa: E402
from portal.db_migrate import upgrade  # noqa: E402
from portal.db_reads import reading  # noqa: E402
from portal.web.sessions import WebSession, _hash, _read_statement  # noqa: E402

DATABASE = "bench_session_read"
URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"
ADMIN = ["-h", "127.0.0.1", "-U", "postgres"]
RESULTS = ROOT / "bench" / "results" / "session_read.json"
IN_FLIGHT = 64
READ = _read_statement([ACTOR_LOADER]).where(WebSession.token_hash == bindparam("token_hash"))


def postgres_cpu() -> float:
    total = 0.0
    for entry in Path("/proc").iterdir():
        found = _stat(int(entry.name)) if entry.name.isdigit() else None
        if found is not None and found[1] == "postgres":
            total += found[2] + _reaped(int(entry.name))
    return total


def connections_opened() -> int:
    out = subprocess.run(
        ["psql", *ADMIN, "-d", DATABASE, "-tAc", "SELECT sum(sessions) FROM pg_stat_database"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out.strip() or 0)


async def seed(engine: AsyncEngine) -> str:
    token = "bench-session-token"
    now = clock.now()
    async with engine.begin() as db:
        person = await db.scalar(
            insert(Person)
            .values(
                issuer="bench",
                subject="li-na",
                name="李娜",
                roles=[],
                highest_level="L3",
                created_at=now,
                last_sign_in_at=now,
            )
            .returning(Person.id)
        )
        await db.execute(
            insert(WebSession).values(
                token_hash=_hash(token),
                data=json.dumps({"person_id": person}),
                created_at=now,
                last_seen_at=now,
                person_id=person,
            )
        )
    return token


async def through_sqlalchemy(engine: AsyncEngine, token_hash: str) -> None:
    async with engine.connect() as db:
        found = (await db.execute(READ, {"token_hash": token_hash})).first()
    assert found is not None


async def through_the_driver(engine: AsyncEngine, token_hash: str) -> None:
    async with reading(engine) as db:
        found = await db.first(READ, {"token_hash": token_hash})
    assert found is not None


async def measure(
    read: Callable[[AsyncEngine, str], Awaitable[None]],
    engine: AsyncEngine,
    token_hash: str,
    reads: int,
) -> dict[str, float]:
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one() -> None:
        async with gate:
            await read(engine, token_hash)

    opened, pg, cpu = connections_opened(), postgres_cpu(), time.process_time()
    await asyncio.gather(*(one() for _ in range(reads)))
    cpu, pg = time.process_time() - cpu, postgres_cpu() - pg
    opened = connections_opened() - opened - 1  # the count's own psql
    return {
        "process_us": cpu / reads * 1e6,
        "postgres_us": pg / reads * 1e6,
        "total_us": (cpu + pg) / reads * 1e6,
        "connections_per_1000": opened / reads * 1000,
    }


async def run(reads: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    kept = make_engine(URL, pool_size=5)
    closing = create_async_engine(
        URL, pool_size=5, max_overflow=10, pool_timeout=POOL_TIMEOUT_SECONDS
    )
    token_hash = _hash(await seed(kept))
    ways: dict[str, tuple[Callable[[AsyncEngine, str], Awaitable[None]], AsyncEngine]] = {
        "sqlalchemy, overflow closed": (through_sqlalchemy, closing),
        "sqlalchemy, pool kept": (through_sqlalchemy, kept),
        "driver, overflow closed": (through_the_driver, closing),
        "driver, pool kept": (through_the_driver, kept),
    }
    for read, engine in ways.values():  # warm: statement caches, the kept connections
        await measure(read, engine, token_hash, reads // 4)
    found: dict[str, list[dict[str, float]]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, (read, engine) in ways.items():
            found[name].append(await measure(read, engine, token_hash, reads))
    await kept.dispose()
    await closing.dispose()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    subprocess.run(["dropdb", *ADMIN, "--if-exists", "--force", DATABASE], check=True)
    subprocess.run(["createdb", *ADMIN, DATABASE], check=True)
    upgrade(URL)
    try:
        found = uvloop.run(run(args.reads, args.rounds))
    finally:
        subprocess.run(["dropdb", *ADMIN, "--if-exists", "--force", DATABASE], check=False)
    base = found["sqlalchemy, overflow closed"]
    print(f"{IN_FLIGHT} in flight, {args.reads} reads per round, {args.rounds} rounds (median)")
    print("| way | process µs | PostgreSQL µs | total µs | ÷ SQLAlchemy, closing | opened /1000 |")
    print("|---|---|---|---|---|---|")
    summary: dict[str, Any] = {}
    for name, rounds in found.items():
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        ratio = statistics.median(
            r["total_us"] / b["total_us"] for r, b in zip(rounds, base, strict=True)
        )
        summary[name] = med | {"ratio_to_sqlalchemy_closing": ratio}
        print(
            f"| {name} | {med['process_us']:.0f} | {med['postgres_us']:.0f} | "
            f"{med['total_us']:.0f} | {ratio:.2f} | {med['connections_per_1000']:.0f} |"
        )
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": clock.now().isoformat(timespec="seconds"),
                "clock_ticks_per_second": CLK_TCK,
                "reads": args.reads,
                "rounds": found,
                "median": summary,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
