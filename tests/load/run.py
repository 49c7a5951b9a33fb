"""Run the load scenario against the whole stack and check it: zero 5xx, zero failures, p95
per kind within its goal, every submission relayed exactly once.

The stack is started as in production, each part its own process on loopback (bench/
relay_throughput.py's helpers): `portal sandbox` (identity provider, e-licences, the intake
platform concluding applications fast: PORTAL_SANDBOX_DAY_SECONDS), `portal serve --workers W`
with PORTAL_RELAY_IN_PROCESS=false, and `portal relay --workers R`, on a fresh migrated
database. Then `locust --headless` (tests/load/locustfile.py) offers `--multiple` × the
estimated peak of one portal process (tests/load/peak.py, docs/load.md) for `--duration`
seconds. At the end: wait until the outbox is drained, then compare the portal's submissions
and ratings with what the sandbox platform holds (distinct idempotency keys).

Run: `make load` (30 min at 3× peak; LOAD_DB=postgres) or
`.venv/bin/python tests/load/run.py --duration 600 --multiple 3 [--db sqlite|postgres]`.
Output: locust's CSV and HTML report and summary.json in --out (default bench/results/load-<db>).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import portal.models  # noqa: E402, F401 (every table mapped)
from bench import relay_throughput as stack  # noqa: E402
from bench.page_throughput import rss_mb, workers_of  # noqa: E402
from portal.applications.models import Application, OutboxMessage  # noqa: E402
from portal.db import make_engine, make_sessionmaker  # noqa: E402
from portal.ratings.models import Rating  # noqa: E402
from tests.load.peak import ESTIMATE, KINDS, users_for  # noqa: E402

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# p95 goals by kind (docs/load.md): half the alert thresholds of docs/deploy.md.
GOALS_MS = {"browse": 500.0, "track": 500.0, "rate": 500.0, "sign-in": 500.0, "apply": 1000.0}
DRAIN_SECONDS = 120.0  # longer than a relay lease (60 s): a lost claim still counts


class LoadSetup(stack.Setup):
    """bench's Setup, with a fast platform and rate limits that let one address (locust on
    loopback stands for many phones) sign in as often as the scenario needs."""

    day_seconds: float = 0.05
    redis_url: str = ""

    def env(self) -> dict[str, str]:
        extra = {
            "PORTAL_SANDBOX_DAY_SECONDS": str(self.day_seconds),
            "PORTAL_SIGN_IN_RATE_LIMIT": "1000000/600",
            "PORTAL_LOOKUP_RATE_LIMIT": "1000000/600",
            "PORTAL_LOG_LEVEL": "WARNING",
        }
        if self.redis_url:
            extra["PORTAL_REDIS_URL"] = self.redis_url
        return super().env() | extra


@dataclass
class Kind:
    requests: int = 0
    failures: int = 0
    server_errors: int = 0
    rate_per_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    goal_p95_ms: float | None = None


@dataclass
class Summary:
    db: str
    web_workers: int
    relay_workers: int
    multiple: float
    duration_s: float
    offered_visits_per_s: dict[str, float]
    users: dict[str, int]
    kinds: dict[str, Kind] = field(default_factory=dict)
    failures: int = 0
    errors: list[str] = field(default_factory=list)
    submitted: int = 0
    relayed: int = 0
    outbox_states: dict[str, int] = field(default_factory=dict)
    ratings: int = 0
    outbox_keys_sent: int = 0
    platform: dict[str, Any] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    rss_mb_web: dict[str, float] = field(default_factory=dict)
    log_problems: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


START = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - START:6.1f} s] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share / 100 * len(ordered)))] if ordered else 0.0


def database(kind: str, url: str, tmp: Path) -> str:
    """A fresh database: SQLite in ``tmp``, or the PostgreSQL database named in ``url``
    (dropped and recreated; never `test`)."""
    if kind == "postgres":
        parsed = make_url(url)
        assert parsed.database and parsed.database != "test", "use a database of its own"
        stack.PG_DB = parsed.database
        stack.PG_URL = url
        stack.PG_ADMIN = ["-h", parsed.host or "127.0.0.1", "-U", parsed.username or "postgres"]
        if parsed.port:
            stack.PG_ADMIN += ["-p", str(parsed.port)]
    return stack.fresh_database(kind, tmp)


async def outbox_state(url: str) -> tuple[dict[str, int], int, int, int, int]:
    """(outbox rows by state, distinct keys sent, applications, relayed, ratings)."""
    engine = make_engine(url, 0)
    try:
        async with make_sessionmaker(engine)() as db:
            states = dict(
                (
                    await db.execute(
                        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                    )
                ).all()
            )
            keys = await db.scalar(
                select(func.count(func.distinct(OutboxMessage.idempotency_key))).where(
                    OutboxMessage.state == "sent", OutboxMessage.topic.like("intake.%")
                )
            )
            apps = await db.scalar(select(func.count()).select_from(Application))
            relayed = await db.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.relay_status == "relayed")
            )
            ratings = await db.scalar(select(func.count()).select_from(Rating))
            return states, int(keys or 0), int(apps or 0), int(relayed or 0), int(ratings or 0)
    finally:
        await engine.dispose()


def drain(url: str) -> tuple[dict[str, int], int, int, int, int]:
    """Waits until no outbox row is pending (or nothing moved for DRAIN_SECONDS)."""
    last: tuple[dict[str, int], int, int, int, int] | None = None
    moved = time.monotonic()
    while True:
        found = asyncio.run(outbox_state(url))
        if not found[0].get("pending"):
            return found
        if found != last:
            last, moved = found, time.monotonic()
        elif time.monotonic() - moved > DRAIN_SECONDS:
            return found
        time.sleep(1.0)


def locust(
    setup: LoadSetup, out: Path, rates: dict[str, float], seconds: float, stop_timeout: float
) -> subprocess.CompletedProcess[str]:
    users = sum(users_for(kind, rate) for kind, rate in rates.items())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")} | {
        "PYTHONPATH": str(ROOT),
        "LOAD_SANDBOX": setup.sandbox,
        "LOAD_TIMINGS": str(out / "timings.json"),
        **{f"LOAD_RATE_{kind.upper()}": f"{rate:.6f}" for kind, rate in rates.items()},
    }
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        setup.portal,
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{round(seconds)}s",
        "--stop-timeout",
        str(round(stop_timeout)),
        "--csv",
        str(out / "locust"),
        "--html",
        str(out / "locust.html"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def kinds_from(
    timings: dict[str, Any], failures_csv: Path, seconds: float, slack: float = 1.0
) -> dict[str, Kind]:
    failed: dict[str, int] = {}
    if failures_csv.exists():
        import csv

        with failures_csv.open() as rows:
            for row in csv.DictReader(rows):
                kind = row["Name"].split(":", 1)[0]
                failed[kind] = failed.get(kind, 0) + int(row["Occurrences"])
    found = {}
    for kind, values in timings["timings_ms"].items():
        found[kind] = Kind(
            requests=len(values),
            failures=failed.get(kind, 0),
            server_errors=timings["server_errors"].get(kind, 0),
            rate_per_s=round(len(values) / seconds, 2),
            p50_ms=round(percentile(values, 50), 1),
            p95_ms=round(percentile(values, 95), 1),
            p99_ms=round(percentile(values, 99), 1),
            max_ms=round(max(values), 1),
            goal_p95_ms=GOALS_MS[kind] * slack if kind in GOALS_MS else None,
        )
    return found


def run(args: argparse.Namespace, out: Path, tmp: Path) -> Summary:
    rates = ESTIMATE.per_process(args.multiple)
    summary = Summary(
        args.db,
        args.workers,
        args.relay_workers,
        args.multiple,
        args.duration,
        {k: round(v, 4) for k, v in rates.items()},
        {k: users_for(k, v) for k, v in rates.items()},
    )
    say(f"fresh {args.db} database")
    setup = LoadSetup(database(args.db, args.database_url, tmp), tmp)
    setup.day_seconds, setup.redis_url = args.day_seconds, args.redis_url
    if args.port_base:
        setup.portal_port, setup.sandbox_port = args.port_base, args.port_base + 1
    (tmp / "uploads").mkdir(exist_ok=True)
    procs = stack.Processes(tmp)
    try:
        setup.migrate()
        say("migrated; starting the sandbox, the portal and the relay")
        # All three start at once (each is seconds of imports); the portal asks the sandbox
        # for nothing before the first sign-in, and the relay retries until it answers.
        sandbox = procs.start(
            "sandbox", ["sandbox", "--port", str(setup.sandbox_port)], setup.env()
        )
        serve = ["serve", "--port", str(setup.portal_port), "--workers", str(args.workers)]
        web = procs.start("web", serve, setup.portal_env())
        relay = procs.start(
            "relay", ["relay", "--workers", str(args.relay_workers)], setup.portal_env()
        )
        discovery = f"{setup.sandbox}/idp/.well-known/openid-configuration"
        stack.wait_http(discovery, sandbox, timeout=180)
        stack.wait_http(f"{setup.portal}/healthz", web, timeout=180)
        # Every worker spawned (their start-up lines are not logged at WARNING): one that is
        # still starting leaves the shared socket to those that are ready.
        deadline = time.monotonic() + 60
        while len(workers_of(web.popen.pid, args.workers)) < args.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"web: fewer than {args.workers} workers")
            time.sleep(0.05)
        if relay.popen.poll() is not None:
            raise RuntimeError(f"relay exited:\n{relay.log_text()[-3000:]}")

        roots = {"web": web.popen.pid, "relay": relay.popen.pid, "sandbox": sandbox.popen.pid}
        pids = workers_of(web.popen.pid, args.workers)
        summary.rss_mb_web["at_rest"] = max(rss_mb(pid) for pid in pids)
        peak = [0.0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                peak[0] = max([peak[0], *(rss_mb(pid) for pid in pids)])

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        before = stack.cpu_snapshot(roots)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        say(f"locust: {sum(summary.users.values())} users for {args.duration:.0f} s")
        done = locust(setup, out, rates, args.duration, args.stop_timeout)
        say("locust done; draining the outbox")
        elapsed = time.monotonic() - started
        after = stack.cpu_snapshot(roots)
        stop.set()
        sampler.join()
        summary.rss_mb_web["peak"] = peak[0]
        summary.rss_mb_web["at_end"] = max(rss_mb(pid) for pid in pids)
        used = stack.cpu_used(before, after)
        # locust ran as a child of this process (waited for): its CPU is in our children's
        # rusage, and out of "others".
        waited = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = waited.ru_utime + waited.ru_stime - children.ru_utime - children.ru_stime
        summary.cpu_seconds = {k: v for k, v in used.items() if k != "client"}
        summary.cpu_seconds["locust"] = round(spent, 2)
        summary.cpu_seconds["others"] = round(max(used["others"] - spent, 0.0), 2)
        (out / "locust.log").write_text(done.stdout + done.stderr)
        if not (out / "timings.json").exists():
            raise RuntimeError(f"locust wrote no timings:\n{(done.stdout + done.stderr)[-3000:]}")
        timings = json.loads((out / "timings.json").read_text())
        window = min(args.duration, elapsed)  # locust stopped early: its real window
        summary.kinds = kinds_from(timings, out / "locust_failures.csv", window, args.latency_slack)
        summary.failures = sum(k.failures for k in summary.kinds.values())
        exceptions = out / "locust_exceptions.csv"
        if exceptions.exists():
            summary.errors = exceptions.read_text().splitlines()[1:]
        states, summary.outbox_keys_sent, summary.submitted, _, summary.ratings = drain(
            setup.database_url
        )
        summary.outbox_states = states
        summary.relayed = asyncio.run(outbox_state(setup.database_url))[3]
        stats = httpx2.get(f"{setup.sandbox}/intake/sandbox/stats", timeout=30).json()
        summary.platform = {k: stats[k] for k in ("idempotency_keys", "applications", "ratings")}
        summary.platform["requests"] = stats["requests"]
        summary.cpu_seconds["locust_wall"] = round(elapsed, 1)
    finally:
        procs.stop_all()
        summary.log_problems = stack.log_problems(tmp)
        for log in tmp.glob("*.log"):
            (out / log.name).write_bytes(log.read_bytes())
        if args.db == "postgres" and not args.keep_database:
            stack.drop_bench_database()
    summary.problems = problems(summary)
    return summary


def problems(s: Summary) -> list[str]:
    found = []
    for name, kind in s.kinds.items():
        if kind.server_errors:
            found.append(f"{name}: {kind.server_errors} answers 5xx")
        if kind.failures:
            found.append(f"{name}: {kind.failures} failures")
        if kind.goal_p95_ms is not None and kind.p95_ms > kind.goal_p95_ms:
            found.append(f"{name}: p95 {kind.p95_ms} ms over the goal {kind.goal_p95_ms} ms")
    if s.errors:
        found.append(f"{len(s.errors)} kinds of exception in the scenario")
    if "apply" not in s.kinds or s.submitted == 0:
        found.append("nothing was submitted")
    if s.outbox_states.get("pending") or s.outbox_states.get("failed"):
        found.append(f"outbox not drained: {s.outbox_states}")
    if not s.submitted == s.relayed == s.platform.get("applications"):
        found.append(
            f"submitted {s.submitted}, relayed {s.relayed}, "
            f"at the platform {s.platform.get('applications')}"
        )
    if s.outbox_keys_sent != s.platform.get("idempotency_keys"):
        found.append(
            f"{s.outbox_keys_sent} keys sent, {s.platform.get('idempotency_keys')} at the platform"
        )
    if s.ratings != s.platform.get("ratings"):
        found.append(f"{s.ratings} ratings, {s.platform.get('ratings')} at the platform")
    return found


def report(s: Summary) -> str:
    lines = [
        f"{s.db}, web workers {s.web_workers}, relay workers {s.relay_workers}, "
        f"{s.multiple:g}× peak per process, {s.duration_s:.0f} s; users {s.users}",
        f"{'kind':8} {'requests':>8} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'goal':>6} {'fail':>4} {'5xx':>4}",
    ]
    for name in (*KINDS, "sign-in", "idp"):
        if (k := s.kinds.get(name)) is None:
            continue
        goal = f"{k.goal_p95_ms:.0f}" if k.goal_p95_ms else "—"
        lines.append(
            f"{name:8} {k.requests:>8} {k.rate_per_s:>7.2f} {k.p50_ms:>7.0f} {k.p95_ms:>7.0f} "
            f"{k.p99_ms:>7.0f} {k.max_ms:>7.0f} {goal:>6} {k.failures:>4} {k.server_errors:>4}"
        )
    cpu = s.cpu_seconds
    held = {k: v for k, v in s.platform.items() if k != "requests"}
    lines += [
        "(ms; idp: the sandbox's sign-in pages, not the portal)",
        f"submitted {s.submitted}, relayed {s.relayed}, ratings {s.ratings}; outbox "
        f"{s.outbox_states}; platform {json.dumps(held)}",
        "CPU seconds: "
        + ", ".join(
            f"{k} {cpu.get(k, 0):.0f}" for k in ("web", "relay", "sandbox", "postgres", "locust")
        )
        + f", others {cpu.get('others', 0):.0f} of {cpu.get('machine_total', 0):.0f} "
        f"machine seconds over {cpu.get('locust_wall', 0):.0f} s",
        f"web worker RSS: {s.rss_mb_web} MB",
        f"log problems: {s.log_problems or 'none'}",
        "PASS" if not s.problems else "FAIL:\n  " + "\n  ".join(s.problems),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds of load")
    parser.add_argument("--multiple", type=float, default=3.0, help="× the estimated peak")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/load_test",
        help="PostgreSQL: this database is dropped and recreated",
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="portal serve --workers")
    parser.add_argument("--relay-workers", type=int, default=1)
    parser.add_argument("--day-seconds", type=float, default=0.05, help="a platform working day")
    parser.add_argument(
        "--stop-timeout", type=float, default=60.0, help="seconds to let visits finish at the end"
    )
    parser.add_argument(
        "--latency-slack",
        type=float,
        default=1.0,
        help="multiply the p95 goals (the CI run on a shared machine)",
    )
    parser.add_argument("--redis-url", default="", help="PORTAL_REDIS_URL for every process")
    parser.add_argument("--out", type=Path, help="default bench/results/load-<db>")
    parser.add_argument(
        "--port-base", type=int, default=0, help="portal on this port, sandbox on the next"
    )
    args = parser.parse_args(argv)
    out = args.out or ROOT / "bench" / "results" / f"load-{args.db}"
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("timings.json", "locust_failures.csv", "locust_exceptions.csv"):
        with suppress(FileNotFoundError):
            (out / stale).unlink()
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        summary = run(args, out, Path(tmp))
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=1, ensure_ascii=False))
    print(report(summary), flush=True)
    return 0 if not summary.problems else 1


if __name__ == "__main__":
    sys.exit(main())
