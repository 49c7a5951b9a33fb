"""Submissions per second end to end (HTTP POST → relayed to the intake platform and
acknowledged), and relay lag percentiles, on SQLite and on PostgreSQL.

Goal: ≥ 300 submissions/s sustained on the 2-core machine, relay lag p99 ≤ 1 s
(docs/performance.md, "Relay throughput").

Every part runs as its own process on loopback, as in production: the sandbox alone
(`portal sandbox`: identity provider, e-licences, the intake platform), the portal web server
(`portal serve --workers W`, PORTAL_RELAY_IN_PROCESS=false) and `portal relay --workers R`
(R = 0: no relay process, PORTAL_RELAY_IN_PROCESS=true, the relay inside each web worker).
Untimed preparation per run: a fresh migrated database, sign in as li-na through the real OIDC
flow, walk one newborn application through the pages up to the check page (not submitted),
then copy that draft N times in the database (its uploads too). Timed: POST
/drafts/{id}/submit for every copy, at most --concurrency in flight, until every outbox row is
`sent` (the platform answered 201 and the relay recorded it).

Two modes per configuration:
  combined  the relay runs while the POSTs arrive: end-to-end rate, POST latency, relay lag
            (outbox.sent_at − outbox.created_at);
  split     all POSTs first with no relay running (the web tier alone), then the relay is
            started and drains the backlog (the relay alone).
CPU seconds of each process tree (web, relay, sandbox, PostgreSQL backends, this client) are
recorded for the timed window, to show where the time goes, with the share of the machine
other processes used ("others": this is a shared machine). --repeat runs each configuration
again; the summary then shows the run others disturbed least.

Run: `.venv/bin/python bench/relay_throughput.py --n 2000 --db sqlite|postgres|both`.
PostgreSQL: a database named `bench` (or $BENCH_PG_DB) on 127.0.0.1 (user postgres) is dropped
and recreated for every run, and dropped at the end. The last lines are `name: value unit`, one
per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import portal.models  # noqa: E402, F401 (every table mapped)
from auth.crypto import PersonalDataCipher  # noqa: E402
from portal import sealed  # noqa: E402
from portal.applications.models import Application, OutboxMessage  # noqa: E402
from portal.db import make_engine, make_sessionmaker  # noqa: E402
from tests.applications.formdata import form_values  # noqa: E402
from tests.draft_copies import copy_drafts  # noqa: E402

PG_ADMIN = ["-h", "127.0.0.1", "-U", "postgres"]
# BENCH_PG_DB: another name when several people benchmark on one server; never `test`.
PG_DB = os.environ.get("BENCH_PG_DB", "bench")
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"
GOAL_RATE = 300.0
GOAL_P99 = 1.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
RESULTS = ROOT / "bench" / "results" / "relay_throughput.json"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Give up waiting for the relay when nothing moved for this long: longer than the relay lease
# (PORTAL_RELAY_LEASE_SECONDS, 60 s), so rows a worker claimed and lost still count.
STALL = 90.0


# Processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the group this process leads (its own workers), SIGKILL if it lingers."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Processes:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: list[Proc] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.tmp / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped together with its workers
            )
        proc = Proc(name, popen, log)
        self.running.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            self.stop(proc)


def wait_http(url: str, proc: Proc, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_text()[-3000:]}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not answer {url}")


def wait_log(proc: Proc, text: str, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_text()[-3000:]}")
        if proc.log_text().count(text) >= count:
            return
        time.sleep(0.02)
    raise RuntimeError(f"{proc.name}: {text!r} not logged {count} times")


# CPU accounting -------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2 :].split()
    return int(rest[1]), name, (int(rest[11]) + int(rest[12])) / CLK_TCK


def _reaped(pid: int) -> float:
    """CPU seconds of the process's children that have exited (only the server has any)."""
    try:
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(rest[13]) + int(rest[14])) / CLK_TCK


def cpu_snapshot(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree, all `postgres` processes, and this
    process; plus the machine's busy and total seconds (all cores)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(int(entry))) is not None:
            procs[int(entry)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)

    def tree(pid: int) -> float:
        total, todo = 0.0, [pid]
        while todo:
            current = todo.pop()
            if current in procs:
                total += procs[current][2]
            todo.extend(children.get(current, []))
        return total

    out = {name: tree(pid) for name, pid in roots.items()}
    # PostgreSQL backends show their database in the process title ("postgres: user db …");
    # the server's shared processes (WAL writer, checkpointer …) count as ours too.
    # A backend that has exited (a connection closed) counts in the server's reaped children
    # ("cutime"): of any database, so measure with nothing else using the server.
    out["postgres"] = 0.0
    for pid, (_, name, cpu) in procs.items():
        if name == "postgres" and _is_ours_postgres(pid):
            out["postgres"] += cpu + _reaped(pid)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["client"] = usage.ru_utime + usage.ru_stime
    busy, total = machine_ticks()
    out["machine_total"], out["machine_busy"] = total, busy
    return out


def _is_ours_postgres(pid: int) -> bool:
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    # a backend: "postgres: [cluster:] <user> <database> <host>(<port>) <state>"
    words = title.split()
    for index, word in enumerate(words):
        if "(" in word and index >= 2 and words[0] == "postgres:":
            return words[index - 1] == PG_DB
    return True  # the server's own processes


def machine_ticks() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    total = sum(ticks)
    return (total - ticks[3] - ticks[4]) / CLK_TCK, total / CLK_TCK


def background_busy(seconds: float = 1.0) -> float:
    """Share of the machine busy over ``seconds`` (before a run: other people's load)."""
    busy0, total0 = machine_ticks()
    time.sleep(seconds)
    busy1, total1 = machine_ticks()
    return (busy1 - busy0) / max(total1 - total0, 1e-9)


def wait_quiet(limit: float, budget: float) -> float:
    """Waits (up to ``budget`` seconds) until the machine is less than ``limit`` busy;
    returns the last share measured."""
    deadline = time.monotonic() + budget
    share = background_busy()
    while share > limit and time.monotonic() < deadline:
        time.sleep(4)
        share = background_busy()
    return share


MACHINE = ("machine_total", "machine_busy")


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    used = {k: round(after[k] - before.get(k, 0.0), 2) for k in after}
    ours = sum(v for k, v in used.items() if k not in MACHINE)
    used["others"] = round(max(used["machine_busy"] - ours, 0.0), 2)
    return used


# Environment ----------------------------------------------------------------------------------


@dataclass
class Setup:
    database_url: str
    tmp: Path
    portal_port: int = field(default_factory=free_port)
    sandbox_port: int = field(default_factory=free_port)
    data_key: str = field(default_factory=lambda: base64.b64encode(os.urandom(32)).decode())
    webhook_secret: str = field(
        default_factory=lambda: "whsec_" + base64.b64encode(os.urandom(32)).decode()
    )

    @property
    def portal(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def env(self) -> dict[str, str]:
        """Shared by every process: the same secrets, so the sandbox's registered clients
        (sandbox_for) match what the portal presents."""
        keep = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        return keep | {
            "PORTAL_DATABASE_URL": self.database_url,
            "PORTAL_BASE_URL": self.portal,
            "PORTAL_DEMO": "true",
            "PORTAL_SECRET_KEY": "bench-" + self.data_key,
            "PORTAL_DATA_KEY": self.data_key,
            "PORTAL_OIDC_CLIENT_ID": "portal-bench",
            "PORTAL_OIDC_CLIENT_SECRET": "bench-oidc-secret",
            "PORTAL_WECHAT_SECRET": "bench-wechat-secret",
            "PORTAL_INTEGRATIONS_API_KEY": "bench-api-key",
            "PORTAL_INTAKE_CLIENT_ID": "portal-bench",
            "PORTAL_INTAKE_CLIENT_SECRET": "bench-intake-secret",
            "PORTAL_INTAKE_WEBHOOK_SECRET": self.webhook_secret,
            # One simulated working day per day: no review or department webhooks while
            # measuring (the counter reviews after 0.05 day).
            "PORTAL_SANDBOX_DAY_SECONDS": "86400",
            "PORTAL_UPLOAD_DIR": str(self.tmp / "uploads"),
        }

    def migrate(self) -> None:
        """Bring the fresh database to the newest schema, as `portal db upgrade` does."""
        migrate = subprocess.run(
            [sys.executable, "-m", "portal.cli", "db", "upgrade"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if migrate.returncode:
            raise RuntimeError(f"migration failed:\n{migrate.stderr[-3000:]}")

    def portal_env(self) -> dict[str, str]:
        s = self.sandbox
        return self.env() | {
            "PORTAL_SANDBOX": "false",
            "PORTAL_RELAY_IN_PROCESS": "false",
            "PORTAL_OIDC_ISSUER": f"{s}/idp",
            "PORTAL_WECHAT_API_BASE": f"{s}/wechat",
            "PORTAL_LICENSES_API_BASE": f"{s}/licenses/api/v1",
            "PORTAL_REGISTRY_API_BASE": f"{s}/registry/api/v1",
            "PORTAL_INTAKE_API_BASE": f"{s}/intake/v1",
            "PORTAL_SMS_API_BASE": f"{s}/sms/api/v1",
        }


def fresh_database(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        path = tmp / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite+aiosqlite:///{path}"
    assert PG_DB != "test"
    subprocess.run(["dropdb", *PG_ADMIN, "--if-exists", "--force", PG_DB], check=True)
    subprocess.run(["createdb", *PG_ADMIN, PG_DB], check=True)
    return PG_URL


def drop_bench_database() -> None:
    subprocess.run(["dropdb", *PG_ADMIN, "--if-exists", "--force", PG_DB], check=False)


# Preparation: one real draft through the pages, then copies ------------------------------------


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (358, 441), "white").save(out, "JPEG")
    return out.getvalue()


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def _post(
    http: httpx2.Client,
    path: str,
    data: Mapping[str, object] | None = None,
    files: Any = None,
) -> httpx2.Response:
    """Post a page's form back the way a browser would, with ``data`` changed."""
    page = http.get(path)
    assert page.status_code == 200, (path, page.status_code, page.text[:500])
    shown = {
        k: v for k, v in form_values(page.text).items() if k.startswith(("f.", "m.", "_shown"))
    }
    response = http.post(
        path, data={**shown, "csrf_token": _csrf(page.text), **(data or {})}, files=files
    )
    assert response.status_code == 303, (path, response.status_code, response.text[:2000])
    return response


def sign_in(http: httpx2.Client, person: str, level: str, next_path: str) -> None:
    """The real OIDC flow: portal → the sandbox's authorize form (person, level, allow) →
    the portal's callback. The provider gets its own client (its cookies are its own)."""
    login = http.get("/auth/login", params={"next": next_path})
    assert login.status_code in (302, 303), login.text[:500]
    authorize = login.headers["location"]
    with httpx2.Client(timeout=30) as provider:
        page = provider.get(authorize)
        assert page.status_code == 200, page.text[:500]
        form = {**dict(HIDDEN.findall(page.text)), "person": person, "level": level}
        answer = provider.post(authorize.split("?")[0], data={**form, "decision": "allow"})
    assert answer.status_code == 302, answer.text[:500]
    back = http.get(answer.headers["location"])
    assert back.status_code == 303, back.text[:500]


def prepare_draft(base: str) -> tuple[str, dict[str, str], str]:
    """Signs in as li-na and fills the newborn one-thing up to the check page, as
    tests/relay/live.py apply_newborn does, without submitting. Returns (draft public id,
    the session's cookies, a CSRF token from the check page)."""
    with httpx2.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        sign_in(http, "li-na", "L3", "/things/newborn/apply")
        path = _post(http, "/things/newborn/apply").headers["location"]
        for answer in ("yes", "no", "no"):
            path = _post(http, path, {"answer": answer}).headers["location"]
        base_path = path.removesuffix("/result")
        section = _post(http, f"{base_path}/result").headers["location"]
        typed = {
            "f.child_name": "张小宝",
            "f.child_ethnicity": "汉族",
            "f.relation_to_head": "child",
            "f.delivery_method": "pickup",
            "f.applicant_role": "mother",
        }
        while "/s/" in section:
            section = _post(http, section, typed).headers["location"]
        page = http.get(section).text
        licenses = dict(
            re.findall(r'name="m\.(\w+)\.license"[^>]*>\s*<option value="([^"]+)"', page)
        )
        data: dict[str, object] = {"m.child_photo.mode": "upload"}
        for key, license_id in licenses.items():
            data |= {
                f"m.{key}.mode": "license",
                f"m.{key}.license": license_id,
                f"m.{key}.consent": "yes",
            }
        files = {"m.child_photo.files": ("photo.jpg", _photo(), "image/jpeg")}
        done = _post(http, section, data, files)
        assert done.headers["location"] == f"{base_path}/check", done.headers["location"]
        check = http.get(f"{base_path}/check")
        assert check.status_code == 200
        cookies = {name: value for name, value in http.cookies.items()}
        return base_path.rsplit("/", 1)[1], cookies, _csrf(check.text)


async def clone_drafts(url: str, public_id: str, count: int) -> list[str]:
    """``count`` copies of the draft with their upload rows, written straight to the database."""
    engine = make_engine(url)
    try:
        made = await copy_drafts(make_sessionmaker(engine), public_id, count)
    finally:
        await engine.dispose()
    return made


# The timed part -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Posts:
    started: float  # epoch seconds when the first POST was sent
    finished: float  # epoch seconds when the last answer arrived
    latencies: list[float]
    errors: dict[str, int]


async def fire(
    base: str, drafts: list[str], cookies: dict[str, str], token: str, concurrency: int
) -> Posts:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(
        base_url=base, cookies=cookies, limits=limits, timeout=120, follow_redirects=False
    ) as http:

        async def one(draft: str) -> None:
            async with gate:
                began = time.perf_counter()
                try:
                    answer = await http.post(
                        f"/drafts/{draft}/submit",
                        data={"csrf_token": token, "delivery_mode": "per_item"},
                    )
                except httpx2.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    return
                latencies.append(time.perf_counter() - began)
                location = answer.headers.get("location", "")
                if answer.status_code != 303 or "submitted=1" not in location:
                    key = f"HTTP {answer.status_code} {location.split('?')[0][:40]}"
                    errors[key] = errors.get(key, 0) + 1

        started = time.time()
        await asyncio.gather(*(one(d) for d in drafts))
        finished = time.time()
    return Posts(started, finished, latencies, errors)


async def wait_relayed(url: str, count: int, timeout: float) -> dict[str, int]:
    """Polls the outbox until ``count`` rows are sent (or nothing moves for ``timeout``)."""
    engine = make_engine(url, pool_size=1)
    try:
        last, since = (-1, -1), time.monotonic()
        while True:
            async with engine.connect() as connection:
                rows = (
                    await connection.execute(
                        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                    )
                ).all()
            states = {state: int(n) for state, n in rows}
            sent, failed = states.get("sent", 0), states.get("failed", 0)
            if sent + failed >= count:
                return states
            if (sent, failed) != last:
                last, since = (sent, failed), time.monotonic()
            elif time.monotonic() - since > timeout:
                return states
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def count_applications(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(select(func.count()).select_from(Application))
    finally:
        await engine.dispose()
    return int(found or 0)


async def outbox_times(url: str) -> tuple[list[float], list[float], int]:
    """(created_at, sent_at) as epoch seconds of every sent row, and relayed applications."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(OutboxMessage.created_at, OutboxMessage.sent_at).where(
                        OutboxMessage.state == "sent", OutboxMessage.topic == "intake.submit"
                    )
                )
            ).all()
            relayed = await connection.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.relay_status == "relayed")
            )
    finally:
        await engine.dispose()

    def epoch(moment: datetime) -> float:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

    sent = [(r[0], r[1]) for r in rows if r[1] is not None]
    return [epoch(c) for c, _ in sent], [epoch(s) for _, s in sent], int(relayed or 0)


# One run --------------------------------------------------------------------------------------


@dataclass
class Result:
    db: str
    mode: str
    web_workers: int
    relay_workers: int
    n: int
    concurrency: int
    measured_at: str = ""
    posted_ok: int = 0  # answered 303 to the confirmation
    submitted: int = 0  # applications in the database after the POSTs
    post_errors: dict[str, int] = field(default_factory=dict)
    relayed: int = 0
    outbox_states: dict[str, int] = field(default_factory=dict)
    platform_applications: int = 0
    platform_requests: dict[str, int] = field(default_factory=dict)
    post_seconds: float = 0.0
    post_rate: float = 0.0
    post_latency_p50_ms: float = 0.0
    post_latency_p99_ms: float = 0.0
    end_to_end_seconds: float | None = None
    end_to_end_rate: float | None = None
    lag_p50_s: float | None = None
    lag_p90_s: float | None = None
    lag_p99_s: float | None = None
    lag_max_s: float | None = None
    relay_only_seconds: float | None = None
    relay_only_rate: float | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    relay_cpu_seconds: dict[str, float] = field(default_factory=dict)
    background_busy_before: float = 0.0  # share of the machine others used just before
    # error and warning lines of each process's JSON log: "process: message: exception"
    log_problems: dict[str, int] = field(default_factory=dict)
    cpu_ms_per_submission: dict[str, float] = field(default_factory=dict)
    portal_cpu_ms: float = 0.0  # web + relay + postgres, per submission
    others_share: float = 0.0  # share of the machine used by processes not in this run


def run_one(
    kind: str,
    mode: str,
    web: int,
    relay: int,
    n: int,
    concurrency: int,
    keep_logs: bool,
    quiet: tuple[float, float] = (1.0, 0.0),
) -> Result:
    result = Result(kind, mode, web, relay, n, concurrency)
    result.measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "uploads").mkdir()
        setup = Setup(fresh_database(kind, tmp), tmp)
        procs = Processes(tmp)
        try:
            setup.migrate()
            sandbox = procs.start(
                "sandbox", ["sandbox", "--port", str(setup.sandbox_port)], setup.env()
            )
            wait_http(f"{setup.sandbox}/idp/.well-known/openid-configuration", sandbox)
            in_process = relay == 0  # the relay inside each web worker (wakes on submit)
            web_env = setup.portal_env() | {"PORTAL_RELAY_IN_PROCESS": str(in_process).lower()}
            web_proc = procs.start(
                "web", ["serve", "--port", str(setup.portal_port), "--workers", str(web)], web_env
            )
            wait_http(f"{setup.portal}/healthz", web_proc)
            if web > 1:  # every worker up (each logs its start)
                wait_log(web_proc, "Application startup complete", web)

            draft, cookies, token = prepare_draft(setup.portal)
            # Draft values are sealed at rest: read and write them with the portal's key.
            sealed.configure(PersonalDataCipher(setup.data_key))
            drafts = asyncio.run(clone_drafts(setup.database_url, draft, n))

            def start_relay() -> Proc:
                proc = procs.start("relay", ["relay", "--workers", str(relay)], setup.portal_env())
                wait_log(proc, "relay worker started", relay)
                return proc

            roots = {"web": web_proc.popen.pid, "sandbox": sandbox.popen.pid}
            result.background_busy_before = round(wait_quiet(*quiet), 3)
            relaying = mode == "combined"
            if relaying and not in_process:
                roots["relay"] = start_relay().popen.pid
            before = cpu_snapshot(roots)

            async def timed() -> tuple[Posts, int, dict[str, int]]:
                posts = await fire(setup.portal, drafts, cookies, token, concurrency)
                submitted = await count_applications(setup.database_url)
                if not relaying:
                    return posts, submitted, {}
                return posts, submitted, await wait_relayed(setup.database_url, submitted, STALL)

            posts, result.submitted, states = asyncio.run(timed())
            after = cpu_snapshot(roots)
            result.cpu_seconds = cpu_used(before, after)
            result.posted_ok = n - sum(posts.errors.values())
            result.post_errors = posts.errors
            result.post_seconds = round(posts.finished - posts.started, 3)
            result.post_rate = round(result.submitted / (posts.finished - posts.started), 1)
            result.post_latency_p50_ms = round(percentile(posts.latencies, 50) * 1000, 1)
            result.post_latency_p99_ms = round(percentile(posts.latencies, 99) * 1000, 1)

            if not relaying:  # split: now the relay alone drains the backlog
                time.sleep(1.0)
                roots["relay"] = start_relay().popen.pid
                relay_started = time.time()
                before = cpu_snapshot(roots)
                states = asyncio.run(wait_relayed(setup.database_url, result.submitted, STALL))
                result.relay_cpu_seconds = cpu_used(before, cpu_snapshot(roots))
            created, sent, result.relayed = asyncio.run(outbox_times(setup.database_url))
            result.outbox_states = states
            if sent:
                if mode == "combined":
                    lags = [s - c for c, s in zip(created, sent, strict=True)]
                    result.end_to_end_seconds = round(max(sent) - posts.started, 3)
                    result.end_to_end_rate = round(len(sent) / (max(sent) - posts.started), 1)
                    result.lag_p50_s = round(percentile(lags, 50), 3)
                    result.lag_p90_s = round(percentile(lags, 90), 3)
                    result.lag_p99_s = round(percentile(lags, 99), 3)
                    result.lag_max_s = round(max(lags), 3)
                else:
                    result.relay_only_seconds = round(max(sent) - relay_started, 3)
                    result.relay_only_rate = round(len(sent) / (max(sent) - relay_started), 1)
            stats = httpx2.get(f"{setup.sandbox}/intake/sandbox/stats", timeout=10).json()
            result.platform_applications = stats["applications"]
            result.platform_requests = stats["requests"]
            per_submission(result)
        finally:
            procs.stop_all()
            result.log_problems = log_problems(tmp)
            if keep_logs:
                keep = ROOT / "bench" / "results" / "logs" / f"{kind}-{mode}-w{web}-r{relay}"
                keep.mkdir(parents=True, exist_ok=True)
                for log in tmp.glob("*.log"):
                    (keep / log.name).write_bytes(log.read_bytes())
    return result


def log_problems(tmp: Path) -> dict[str, int]:
    """Counts the error and warning lines of the processes' logs, by what they say."""
    found: dict[str, int] = {}
    for log in sorted(tmp.glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("level") not in ("error", "warning", "critical"):
                continue
            trace = str(entry.get("exception", ""))
            lines = [x for x in trace.splitlines() if "Error" in x]
            cause = lines[-1].strip()[:120] if lines else ""
            if (sql := trace.rfind("[SQL: ")) >= 0:  # which statement: claim, record …
                cause += " " + trace[sql : sql + 50].replace("\n", " ")
            key = f"{log.stem}: {str(entry.get('message', '')).strip()[:60]}: {cause}"
            found[key] = found.get(key, 0) + 1
    return found


# Main -----------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".0f", unit: str = "") -> str:
    return "—" if value is None else format(value, spec) + unit


def _relay(r: Result) -> str:
    return str(r.relay_workers) if r.relay_workers else "in"


def table(results: list[Result]) -> str:
    head = (
        f"{'db':8} {'mode':8} {'web':>3} {'relay':>5} {'n':>5} {'fail':>4} {'sent':>5} "
        f"{'e2e/s':>6} {'POST/s':>6} {'POST p50':>8} {'POST p99':>8} {'relay/s':>7} "
        f"{'lag p50':>7} {'lag p90':>7} {'lag p99':>7} {'lag max':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.db:8} {r.mode:8} {r.web_workers:>3} {_relay(r):>5} {r.n:>5} "
            f"{sum(r.post_errors.values()):>4} {r.relayed:>5} "
            f"{_fmt(r.end_to_end_rate):>6} {_fmt(r.post_rate):>6} "
            f"{_fmt(r.post_latency_p50_ms, '.0f', 'ms'):>8} "
            f"{_fmt(r.post_latency_p99_ms, '.0f', 'ms'):>8} {_fmt(r.relay_only_rate):>7} "
            + " ".join(f"{_fmt(v, '.2f', 's'):>7}" for v in (r.lag_p50_s, r.lag_p90_s, r.lag_p99_s))
            + f" {_fmt(r.lag_max_s, '.2f', 's'):>7}"
        )
    lines.append(
        "fail: POSTs not accepted (HTTP 500, or the connection the server closed after one); "
        "e2e/s: sent rows / (last sent_at − first POST); POST/s: accepted / POST window"
    )
    return "\n".join(lines)


def cpu_table(results: list[Result]) -> str:
    names = ("web", "relay", "postgres", "sandbox", "client")
    head = (
        f"{'CPU ms per submission':30} "
        + " ".join(f"{n:>8}" for n in names)
        + f" {'portal':>8} {'others':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        per = r.cpu_ms_per_submission
        lines.append(
            f"{f'{r.db} {r.mode} w{r.web_workers} relay {_relay(r)}':30} "
            + " ".join(f"{per.get(n, 0.0):>8.1f}" for n in names)
            + f" {r.portal_cpu_ms:>8.1f} {r.others_share:>7.0%}"
        )
    lines.append(
        "portal = web + relay + postgres (the sandbox stands in for the platform, the client "
        "for the people); others = share of the machine used by processes not in this run"
    )
    return "\n".join(lines)


def per_submission(result: Result) -> None:
    """CPU milliseconds per submission of each part; in split mode the web figures come
    from the POST window and the relay's from the relay window."""
    windows = [(result.cpu_seconds, max(result.submitted, 1))]
    if result.relay_cpu_seconds:
        windows.append((result.relay_cpu_seconds, max(result.relayed, 1)))
    per: dict[str, float] = {}
    busy = total = others = 0.0
    for used, count in windows:
        for name, seconds in used.items():
            if name not in (*MACHINE, "others"):
                per[name] = round(per.get(name, 0.0) + seconds * 1000 / count, 2)
        busy += used.get("machine_busy", 0.0)
        total += used.get("machine_total", 0.0)
        others += used.get("others", 0.0)
    result.cpu_ms_per_submission = per
    result.portal_cpu_ms = round(sum(per.get(n, 0.0) for n in ("web", "relay", "postgres")), 2)
    result.others_share = round(others / total, 3) if total else 0.0


def least_disturbed(results: list[Result]) -> list[Result]:
    """Of the repeats of one configuration, the run other processes disturbed least."""
    best: dict[tuple[str, str, int, int], Result] = {}
    for r in results:
        key = (r.db, r.mode, r.web_workers, r.relay_workers)
        if key not in best or r.others_share < best[key].others_share:
            best[key] = r
    return list(best.values())


def plan(args: argparse.Namespace) -> Iterator[tuple[str, str, int, int]]:
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        for mode in args.modes:
            for web in args.web_workers:
                for relay in args.relay_workers:
                    if mode == "split" and (relay == 0 or (web != relay and not args.all_split)):
                        continue  # the split runs measure each tier alone: w1r1 and w2r2
                    for _ in range(args.repeat):
                        yield kind, mode, web, relay


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="submissions per run")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--concurrency", type=int, default=48, help="POSTs in flight")
    parser.add_argument("--web-workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--relay-workers",
        type=int,
        nargs="+",
        default=[0, 1, 2],
        help="`portal relay --workers R` processes; 0: the relay inside the web process",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration")
    parser.add_argument(
        "--modes", nargs="+", choices=("combined", "split"), default=["combined", "split"]
    )
    parser.add_argument("--all-split", action="store_true", help="split runs for every pair")
    parser.add_argument("--keep-logs", action="store_true", help="copy logs to bench/results/logs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=0.15,
        help="before each timed phase wait until the machine is less busy than this share",
    )
    parser.add_argument("--quiet-wait", type=float, default=300, help="…for at most this long")
    args = parser.parse_args()

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    results: list[Result] = []
    try:
        for kind, mode, web, relay in plan(args):
            print(f"… {kind} {mode} web={web} relay={relay} n={args.n}", flush=True)
            result = run_one(
                kind,
                mode,
                web,
                relay,
                args.n,
                args.concurrency,
                args.keep_logs,
                (args.quiet_below, args.quiet_wait),
            )
            print(
                "  "
                + json.dumps(
                    {
                        k: v
                        for k, v in asdict(result).items()
                        if k not in ("cpu_seconds", "relay_cpu_seconds", "platform_requests")
                    },
                    ensure_ascii=False,
                ),
                flush=True,
            )
            results.append(result)
    except KeyboardInterrupt:
        print("interrupted; processes stopped", file=sys.stderr)
        return 130
    finally:
        if args.db in ("postgres", "both"):
            drop_bench_database()
    print()
    print(table(results))
    print()
    print(cpu_table(results))
    if args.repeat > 1:
        quiet = least_disturbed(results)
        print("\nThe least disturbed run of each configuration (lowest `others`):\n")
        print(table(quiet))
        print()
        print(cpu_table(quiet))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Keep the other database's figures from an earlier run (`--db sqlite`, then postgres).
    kept: list[dict[str, Any]] = []
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        earlier = json.loads(args.out.read_text())["results"]
        kept = [r for r in earlier if r["db"] not in {r.db for r in results}]
    document = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_at_end": os.getloadavg(),
        },
        "goal": {"rate_per_s": GOAL_RATE, "lag_p99_s": GOAL_P99},
        "results": kept + [asdict(r) for r in results],
    }
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    ok = True
    for r in results:
        tag = f"{r.db}_{r.mode}_w{r.web_workers}_r{r.relay_workers}"
        if r.end_to_end_rate is not None:
            print(f"{tag}_end_to_end: {r.end_to_end_rate} submissions/s")
            print(f"{tag}_lag_p99: {r.lag_p99_s} s")
            met = r.end_to_end_rate >= GOAL_RATE and (r.lag_p99_s or 0) <= GOAL_P99
            print(f"{tag}_goal_met: {int(met)} bool")
        print(f"{tag}_post: {r.post_rate} submissions/s")
        if r.relay_only_rate is not None:
            print(f"{tag}_relay_only: {r.relay_only_rate} submissions/s")
        print(f"{tag}_portal_cpu: {r.portal_cpu_ms} ms/submission")
        print(f"{tag}_others_share: {r.others_share:.2f} share")
        failed = sum(r.post_errors.values())
        print(f"{tag}_post_failures: {failed} count")
        # every accepted submission relayed once; the platform holds exactly those
        ok = ok and r.relayed == r.submitted == r.platform_applications
    print(f"all_accepted_relayed_once: {int(ok)} bool")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
