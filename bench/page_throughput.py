"""Page throughput and latency, signed in, against a ceiling measured in the same run.

Goal (issue 9): the home page, a guide page and an application's progress page each serve
≥ 50% of the requests per second of the ceiling — a bare Starlette + Jinja2 app rendering the
same template from in-memory data (bench/page_ceiling.py) — with p99 ≤ 50 ms at 64 connections,
with 1 and 2 worker processes. Also: memory (RSS) per portal worker at rest and under load.

Every part is its own process on loopback, as in production: `portal sandbox`, `portal serve
--workers W` (PORTAL_RELAY_IN_PROCESS=false) and the ceiling under uvicorn with the same W
and event loop (`--loop`).
Not timed: a fresh migrated database; 李娜 signs in through the sandbox's OIDC pages, fills the
newborn one-thing and submits it (bench/relay_throughput.py's preparation). Timed: wrk (Debian
package) with her session cookie, portal and ceiling alternately, page by page, after a 2-s
warm-up each; wrk's own threads share the machine's two cores. The machine's busy share
before each measurement is recorded ("others": this machine is shared); ratios are the figure
to read, not absolute numbers.

Run: `make bench-pages` or `.venv/bin/python bench/page_throughput.py [--workers 1 2]
[--connections 64] [--pages home guide progress] [--duration 10] [--repeat 1]
[--db sqlite|postgres] [--profile DIR]`.
`BENCH_PORTS=8800-8899` takes the ports from that range.
The summary goes to stdout and bench/results/page_throughput-<db>.json. PostgreSQL: a database
`scale_page_bench` on 127.0.0.1 (user postgres), dropped and recreated for every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402

from bench import relay_throughput  # noqa: E402
from bench.relay_throughput import (  # noqa: E402
    Processes,
    Setup,
    _csrf,
    background_busy,
    cpu_snapshot,
    drop_bench_database,
    free_port,
    fresh_database,
    prepare_draft,
    wait_http,
    wait_log,
)
from portal.settings import EVENT_LOOPS, Settings  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "page_throughput.json"
# Our own PostgreSQL database (dropped and recreated per run), never `test` or the relay's.
relay_throughput.PG_DB = "scale_page_bench"
relay_throughput.PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/scale_page_bench"
GOAL_SHARE = 0.5
PAGES = ("home", "guide", "progress")
GOAL_P99_MS = 50.0
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Measure:
    page: str
    target: str  # portal | ceiling
    workers: int
    connections: int
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    bad: int = 0  # non-2xx/3xx answers and socket errors
    others_before: float = 0.0
    # CPU time of the server's process tree (and, for the portal on PostgreSQL, of the
    # database) per request served: steadier than req/s on a shared machine.
    cpu_ms_per_request: float = 0.0
    rss_mb_at_rest: list[float] = field(default_factory=list)
    rss_mb_under_load: list[float] = field(default_factory=list)
    # Open loop (bench/open_loop.py): the same connections at a fixed offered rate, a share
    # of the ceiling's closed-loop req/s in the same repeat; latency from when a request was due.
    open_rate: float = 0.0
    open_achieved: float = 0.0
    open_p50_ms: float = 0.0
    open_p99_ms: float = 0.0
    open_bad: int = 0
    open_cpu_ms_per_request: float = 0.0
    open_worst_ms_by_second: list[float] = field(default_factory=list)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """(requests/s, p50 ms, p99 ms, requests, bad answers) from `wrk --latency`."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if errors:
        bad += sum(int(n) for n in errors.groups())
    return rps, p50, p99, requests, bad


def workers_of(root: int, count: int) -> list[int]:
    """The serving processes under ``root``: itself with one worker, else its spawned
    children (uvicorn's supervisor does not serve)."""
    if count == 1:
        return [root]
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == root and b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
            found.append(int(entry))
    return sorted(found)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def wrk(url: str, session: str, connections: int, seconds: float) -> str:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{round(seconds)}s",
        "--latency",
        "--timeout",
        "10s",
        "-H",
        f"Cookie: session={session}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout


def measure(
    base: str,
    page: str,
    path: str,
    target: str,
    pids: list[int],
    session: str,
    workers: int,
    connections: int,
    seconds: float,
) -> Measure:
    result = Measure(page, target, workers, connections)
    wrk(base + path, session, connections, 2)  # warm-up
    result.others_before = round(background_busy(1.0), 3)
    result.rss_mb_at_rest = [rss_mb(pid) for pid in pids]
    peak = dict.fromkeys(pids, 0.0)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            for pid in pids:
                peak[pid] = max(peak[pid], rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    spies = [spy(pid, f"{workers}w-{page}-{target}-{n}", seconds) for n, pid in enumerate(pids)]
    roots = {f"w{n}": pid for n, pid in enumerate(pids)}
    before = cpu_snapshot(roots)
    try:
        output = wrk(base + path, session, connections, seconds)
    finally:
        stop.set()
        sampler.join()
        for running in spies:
            if running is not None:
                running.wait(30)
    after = cpu_snapshot(roots)
    result.rss_mb_under_load = [peak[pid] for pid in pids]
    result.rps, result.p50_ms, result.p99_ms, result.requests, result.bad = parse_wrk(output)
    used = sum(after[name] - before[name] for name in roots)
    if target == "portal":
        used += after["postgres"] - before["postgres"]
    result.cpu_ms_per_request = round(1000 * used / max(result.requests, 1), 2)
    return result


def measure_open(
    result: Measure, base: str, path: str, pids: list[int], session: str, rate: float
) -> None:
    """Offer ``rate`` requests per second over the same connections (open loop)."""
    roots = {f"w{n}": pid for n, pid in enumerate(pids)}
    before = cpu_snapshot(roots)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "open_loop.py"),
            base + path,
            "--rate",
            f"{rate:.1f}",
            "--connections",
            str(result.connections),
            "--seconds",
            str(OPEN_SECONDS),
            "--cookie",
            f"session={session}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = cpu_snapshot(roots)
    found = json.loads(done.stdout)
    result.open_rate = round(rate, 1)
    result.open_achieved = found["achieved"]
    result.open_p50_ms = found["p50_ms"]
    result.open_p99_ms = found["p99_ms"]
    result.open_bad = found["bad"]
    result.open_worst_ms_by_second = found["worst_ms_by_second"]
    used = sum(after[name] - before[name] for name in roots)
    if result.target == "portal":
        used += after["postgres"] - before["postgres"]
    result.open_cpu_ms_per_request = round(1000 * used / max(found["requests"], 1), 2)


PROFILE_DIR: Path | None = None
OPEN_SECONDS = 10.0


def spy(pid: int, name: str, seconds: float) -> subprocess.Popen[bytes] | None:
    """With --profile: py-spy samples the process while wrk runs (collapsed stacks)."""
    if PROFILE_DIR is None:
        return None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--format",
        "raw",
        "--nonblocking",
        "-d",
        str(round(seconds) - 1),
        "-p",
        str(pid),
        "-o",
        str(PROFILE_DIR / f"{name}.txt"),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def submit_one(base: str) -> tuple[str, str]:
    """(the application's progress path, the session cookie) of 李娜's submitted newborn."""
    draft, cookies, token = prepare_draft(base)
    with httpx2.Client(base_url=base, cookies=cookies, timeout=60) as http:
        check = http.get(f"/drafts/{draft}/check")
        done = http.post(
            f"/drafts/{draft}/submit",
            data={"csrf_token": _csrf(check.text) or token, "delivery_mode": "per_item"},
        )
        assert done.status_code == 303, done.text[:500]
        return done.headers["location"].split("?")[0], http.cookies["session"]


def check_signed_in(base: str, paths: dict[str, str], session: str, target: str) -> None:
    for page, path in paths.items():
        answer = httpx2.get(base + path, headers={"cookie": f"session={session}"}, timeout=30)
        assert answer.status_code == 200, (target, page, answer.status_code)
        assert "李娜" in answer.text, f"{target} {page}: not signed in"


def port() -> int:
    """A free loopback port: from ``$BENCH_PORTS`` ("8800-8899", for a machine shared by
    several people who split the ports), else any the system gives."""
    first, _, last = os.environ.get("BENCH_PORTS", "").partition("-")
    for candidate in range(int(first or 0), int(last or -1) + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            if candidate not in TAKEN:
                TAKEN.add(candidate)
                return candidate
    return free_port()


TAKEN: set[int] = set()


def served(args: argparse.Namespace) -> dict[str, str]:
    """How both the portal and the ceiling are served: the same loop, the same sockets."""
    return {
        "PORTAL_EVENT_LOOP": args.loop,
        "PORTAL_SOCKET_PER_WORKER": "false" if args.shared_socket else "true",
    }


def run(workers: int, args: argparse.Namespace, tmp: Path) -> list[Measure]:
    setup = Setup(fresh_database(args.db, tmp), tmp, portal_port=port(), sandbox_port=port())
    procs = Processes(tmp)
    results: list[Measure] = []
    try:
        setup.migrate()
        sandbox = procs.start(
            "sandbox", ["sandbox", "--port", str(setup.sandbox_port)], setup.env()
        )
        wait_http(f"{setup.sandbox}/idp/.well-known/openid-configuration", sandbox)
        web = procs.start(
            "web",
            ["serve", "--port", str(setup.portal_port), "--workers", str(workers)],
            setup.portal_env() | served(args),
        )
        wait_http(f"{setup.portal}/healthz", web, timeout=240)  # two workers on a busy machine
        if workers > 1:
            wait_log(web, "Application startup complete", workers)
        progress, session = submit_one(setup.portal)
        paths = {"home": "/", "guide": "/things/newborn", "progress": progress}
        paths = {page: path for page, path in paths.items() if page in args.pages}

        ceiling_port = port()
        ceiling_env = (
            setup.portal_env()
            | served(args)
            | {
                "BENCH_PAGES": " ".join(paths.values()),
                "BENCH_SESSION": session,
            }
        )
        log = tmp / "ceiling.log"
        with log.open("ab") as out:
            ceiling = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.page_ceiling",
                    "--port",
                    str(ceiling_port),
                    "--workers",
                    str(workers),
                    "--loop",  # the portal's, so both are served alike
                    args.loop,
                ],
                cwd=ROOT,
                env=ceiling_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        ceiling_url = f"http://127.0.0.1:{ceiling_port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx2.get(ceiling_url + "/", timeout=2).status_code < 500:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline or ceiling.poll() is not None:
                raise RuntimeError(f"the ceiling did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        time.sleep(2 if workers > 1 else 0)  # every ceiling worker up
        check_signed_in(setup.portal, paths, session, "portal")
        check_signed_in(ceiling_url, paths, session, "ceiling")

        targets = {
            "portal": (setup.portal, workers_of(web.popen.pid, workers)),
            "ceiling": (ceiling_url, workers_of(ceiling.pid, workers)),
        }
        for connections in args.connections:
            for _ in range(args.repeat):
                for page, path in paths.items():
                    pair = {
                        target: measure(
                            base,
                            page,
                            path,
                            target,
                            pids,
                            session,
                            workers,
                            connections,
                            args.duration,
                        )
                        for target, (base, pids) in targets.items()
                    }
                    if args.open_share:
                        rate = args.open_share * pair["ceiling"].rps
                        for target, (base, pids) in targets.items():
                            measure_open(pair[target], base, path, pids, session, rate)
                    for found in pair.values():
                        print(_line(found), flush=True)
                        results.append(found)
    finally:
        if "ceiling" in locals():
            os.killpg(ceiling.pid, 15)
            ceiling.wait(15)
        procs.stop_all()
    return results


def _line(m: Measure) -> str:
    return (
        f"{m.workers}w c{m.connections} {m.page:8} {m.target:7} {m.rps:8.1f} req/s "
        f"p50 {m.p50_ms:6.1f} ms p99 {m.p99_ms:6.1f} ms cpu {m.cpu_ms_per_request:5.2f} ms/req "
        f"bad {m.bad} others {m.others_before:.0%} "
        f"rss {m.rss_mb_at_rest}→{m.rss_mb_under_load} MB"
        + (
            f" | open {m.open_rate:.0f}/s: {m.open_achieved:.0f}/s p50 {m.open_p50_ms:.1f} ms "
            f"p99 {m.open_p99_ms:.1f} ms bad {m.open_bad} cpu {m.open_cpu_ms_per_request:.2f}"
            if m.open_rate
            else ""
        )
    )


def pairs(results: list[Measure]) -> dict[tuple[int, int, str], list[tuple[Measure, Measure]]]:
    """(portal, ceiling) measured back to back, by (workers, connections, page)."""
    found: dict[tuple[int, int, str], list[tuple[Measure, Measure]]] = {}
    waiting: dict[tuple[int, int, str], Measure] = {}
    for m in results:
        key = (m.workers, m.connections, m.page)
        if m.target == "portal":
            waiting[key] = m
        elif key in waiting:
            found.setdefault(key, []).append((waiting.pop(key), m))
    return found


def summary(results: list[Measure]) -> list[str]:
    """One row per (workers, connections, page): of its back-to-back pairs, the one other
    processes disturbed least, with the range of every pair's share in brackets."""
    rows = []
    for (workers, connections, page), found in sorted(pairs(results).items(), key=str):
        shares = [p.rps / c.rps for p, c in found if c.rps]
        cpu = [
            c.cpu_ms_per_request / p.cpu_ms_per_request for p, c in found if p.cpu_ms_per_request
        ]
        portal, ceiling = min(found, key=lambda pc: max(pc[0].others_before, pc[1].others_before))
        share = portal.rps / ceiling.rps if ceiling.rps else 0.0
        met = share >= GOAL_SHARE and portal.p99_ms <= GOAL_P99_MS
        cpu_share = f"**{sum(cpu) / len(cpu):.0%}**" if cpu else "—"
        rows.append(
            f"| {workers} | {connections} | {page} | {portal.rps:.0f} | {ceiling.rps:.0f} | "
            f"**{share:.0%}** ({min(shares):.0%}–{max(shares):.0%}) | "
            f"{portal.p50_ms:.0f} / {portal.p99_ms:.0f} | "
            f"{ceiling.p50_ms:.0f} / {ceiling.p99_ms:.0f} | "
            f"{portal.cpu_ms_per_request:.2f} / {ceiling.cpu_ms_per_request:.2f} | "
            f"{cpu_share} | "
            f"{max(portal.others_before, ceiling.others_before):.0%} | "
            f"{'yes' if met else 'no'} | "
            + (
                f"{portal.open_rate:.0f} | "
                f"{portal.open_achieved:.0f} / {ceiling.open_achieved:.0f} | "
                f"{portal.open_p50_ms:.0f} / {portal.open_p99_ms:.0f} | "
                f"{ceiling.open_p50_ms:.0f} / {ceiling.open_p99_ms:.0f} | "
                f"{portal.open_cpu_ms_per_request:.2f} / {ceiling.open_cpu_ms_per_request:.2f} | "
                f"{'yes' if portal.open_p99_ms <= GOAL_P99_MS and not portal.open_bad else 'no'} |"
                if portal.open_rate
                else "— | — | — | — | — | — |"
            )
        )
    return rows


def print_summary(results: list[Measure]) -> None:
    print(
        "| workers | connections | page | portal req/s | ceiling req/s | share (all pairs) | "
        "portal p50 / p99 ms | ceiling p50 / p99 ms | CPU ms per request portal / ceiling | "
        "CPU share (mean) | others | goal met | open-loop rate | served portal / ceiling | "
        "open portal p50 / p99 ms | open ceiling p50 / p99 ms | open CPU ms/req portal / ceiling | "
        "open p99 ≤ 50 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(summary(results)))
    for m in results:
        if m.target == "portal":
            rest, load = max(m.rss_mb_at_rest), max(m.rss_mb_under_load)
            print(f"rss_{m.workers}w_{m.page}: {rest} → {load} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, nargs="+", default=[64])
    parser.add_argument(
        "--pages", nargs="+", choices=PAGES, default=list(PAGES), help="the pages measured"
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--profile", type=Path, help="py-spy every measured process into DIR")
    parser.add_argument(
        "--open-share",
        type=float,
        default=0.5,
        help="also offer this share of the ceiling's req/s at a fixed rate (0: skip)",
    )
    parser.add_argument(
        "--pg-database", default=relay_throughput.PG_DB, help="PostgreSQL database (recreated)"
    )
    parser.add_argument(
        "--loop",
        choices=EVENT_LOOPS,
        default=Settings().event_loop,
        help="the event loop of the portal and of the ceiling (default: the portal's default)",
    )
    parser.add_argument(
        "--shared-socket",
        action="store_true",
        help="serve portal and ceiling workers on one shared socket (PORTAL_SOCKET_PER_WORKER)",
    )
    parser.add_argument("--summarise", type=Path, help="print the summary of a results file")
    args = parser.parse_args()
    if args.summarise:
        runs = json.loads(args.summarise.read_text())["runs"]
        print_summary([Measure(**run) for run in runs])
        return 0
    global PROFILE_DIR, OPEN_SECONDS
    PROFILE_DIR = args.profile
    OPEN_SECONDS = args.duration
    relay_throughput.PG_DB = args.pg_database
    relay_throughput.PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.pg_database}"
    if shutil.which("wrk") is None:
        print("wrk is missing: `make apt-deps` installs it (Debian package wrk)", file=sys.stderr)
        return 1
    results: list[Measure] = []
    started = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        for workers in args.workers:
            with tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
                (Path(tmp) / "uploads").mkdir()
                results += run(workers, args, Path(tmp))
    finally:
        if args.db == "postgres":
            drop_bench_database()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.with_name(f"page_throughput-{args.db}.json").write_text(
        json.dumps(
            {
                "started": started,
                "nproc": os.cpu_count(),
                "db": args.db,
                "loop": args.loop,
                "socket_per_worker": not args.shared_socket,
                "runs": [asdict(m) for m in results],
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
