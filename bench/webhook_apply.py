"""Platform webhooks applied per second by one portal process, and its CPU per event.

The platform sends about 22 signed events per newborn application (received; per item
accepted, approved, result issued, delivered; concluded), most of which queue a text
message. docs/faults.md found the portal applying only 4–10 a second on the loaded machine,
most of the time to drain after a fault. This measures the webhook handler alone.

Untimed: a fresh migrated database with --apps relayed newborn applications (their five
items, a person with a mobile), written straight to the database. Timed: `portal serve
--workers 1` (no relay, no sandbox) receives every application's events in order, signed like
the platform (Standard Webhooks), --concurrency applications at a time on keep-alive
connections. Checked after: every event is on a timeline once and every application
concluded. Several source trees can be compared in one run (`--code before=/tmp/base
--code after=.`, alternated --repeat times): the same data, the same client, one after the
other, so compare their ratios, not absolute rates across runs.

Run: `.venv/bin/python bench/webhook_apply.py --apps 150 --db postgres`.
PostgreSQL uses the database $BENCH_PG_DB (default `bench`), dropped and recreated per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx2  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import portal.models  # noqa: E402, F401 (every table mapped)
from auth.crypto import PersonalDataCipher  # noqa: E402
from auth.models import Person  # noqa: E402
from bench.relay_throughput import (  # noqa: E402
    Proc,
    Setup,
    cpu_snapshot,
    cpu_used,
    fresh_database,
    wait_http,
)
from integrations.intake.webhooks import sign  # noqa: E402
from portal import clock, sealed  # noqa: E402
from portal.applications.models import Application, ApplicationEvent, ApplicationItem  # noqa: E402
from portal.applications.services import new_public_id  # noqa: E402
from portal.catalog.loader import load_catalog  # noqa: E402
from portal.db import make_engine, make_sessionmaker  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "webhook_apply.json"
ITEM_STEPS = ("accepted", "approved", "result_issued", "delivered")


def newborn_items() -> list[tuple[str, str]]:
    thing = load_catalog(only=["newborn"]).things["newborn"]
    return [(item.key, item.department) for item in thing.items][:5]


async def make_applications(url: str, count: int, items: list[tuple[str, str]]) -> list[str]:
    engine = make_engine(url)
    made: list[str] = []
    try:
        async with make_sessionmaker(engine)() as db:
            now = clock.now()
            for start in range(0, count, 200):
                batch = []
                for _ in range(min(200, count - start)):
                    person = Person(
                        issuer="https://idp.bench",
                        subject=secrets.token_hex(8),
                        name="李娜",
                        roles=[],
                        highest_level="L3",
                        created_at=now,
                        last_sign_in_at=now,
                    )
                    db.add(person)
                    batch.append(person)
                await db.flush()
                applications = [
                    Application(
                        public_id=new_public_id(),
                        draft_public_id=new_public_id(),
                        thing_code="newborn",
                        subject_kind="person",
                        subject_id=person.id,
                        operator_id=person.id,
                        answers={},
                        values={"mobile": "13837310521", "child_name": "张小宝"},
                        materials={},
                        figures={},
                        status="submitted",
                        submitted_at=now,
                        updated_at=now,
                        sequence=-1,
                        platform={},
                        relay_status="relayed",
                    )
                    for person in batch
                ]
                db.add_all(applications)
                await db.flush()
                for application in applications:
                    for key, department in items:
                        db.add(
                            ApplicationItem(
                                application_id=application.id,
                                item_key=key,
                                department=department,
                                promised_days=5,
                                status="submitted",
                                sequence=-1,
                                snapshot={},
                            )
                        )
                    made.append(application.public_id)
                await db.commit()
    finally:
        await engine.dispose()
    return made


def events_of(public_id: str, items: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """The platform's events for one application, in the order it sends them."""
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    deadline = {"party": "authority", "due_at": due}

    def item(key: str, state: str, sequence: int) -> dict[str, Any]:
        return {"item_key": key, "state": state, "sequence": sequence, "deadline": deadline}

    receipt = f"SJ-410700-20261206-{secrets.token_hex(4)}"
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "application.received",
            {
                "application_id": public_id,
                "one_thing": "newborn",
                "receipt_number": receipt,
                "sequence": 1,
                "state": "in_progress",
                "notice": None,
                "items": [item(key, "dispatched", 1) for key, _ in items],
            },
        )
    ]
    for key, _ in items:
        for sequence, state in enumerate(ITEM_STEPS, start=2):
            data = item(key, state, sequence) | {"application_id": public_id}
            if state == "delivered":
                data["delivery"] = {"method": "pickup"}
            out.append((f"item.{state}", data))
    concluded = {"application_id": public_id, "sequence": 2, "state": "concluded", "items": []}
    out.append(("application.concluded", concluded))
    return out


async def send_all(
    url: str, secret: str, plans: list[list[tuple[str, dict[str, Any]]]], concurrency: int
) -> Counter[int]:
    queue: asyncio.Queue[list[tuple[str, dict[str, Any]]]] = asyncio.Queue()
    for plan in plans:
        queue.put_nowait(plan)
    statuses: Counter[int] = Counter()
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(timeout=60, limits=limits) as http:

        async def sender() -> None:
            while not queue.empty():
                plan = queue.get_nowait()
                for kind, data in plan:  # one application's events in order
                    raw = json.dumps(
                        {"type": kind, "timestamp": clock.now().isoformat(), "data": data}
                    ).encode()
                    headers = sign(secret, f"msg_{secrets.token_hex(12)}", clock.now(), raw)
                    response = await http.post(
                        f"{url}/webhooks/intake",
                        content=raw,
                        headers={**headers, "content-type": "application/json"},
                    )
                    statuses[response.status_code] += 1

        await asyncio.gather(*(sender() for _ in range(concurrency)))
    return statuses


async def check(url: str, events: int, apps: int) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            lines = await db.scalar(select(func.count()).select_from(ApplicationEvent))
            concluded = await db.scalar(
                select(func.count())
                .select_from(Application)
                .where(Application.status == "concluded")
            )
    finally:
        await engine.dispose()
    return int(lines or 0), int(concluded or 0)


@dataclass
class Result:
    code: str
    src: str
    db: str
    apps: int
    events: int
    concurrency: int
    measured_at: str = ""
    seconds: float = 0.0
    rate: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    timeline_lines: int = 0
    concluded: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    web_ms_per_event: float = 0.0
    postgres_ms_per_event: float = 0.0
    others_share: float = 0.0
    load_average: str = ""


def run_one(code: str, src: Path, kind: str, apps: int, concurrency: int) -> Result:
    items = newborn_items()
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "uploads").mkdir()
        setup = Setup(fresh_database(kind, tmp), tmp)
        setup.migrate()
        sealed.configure(PersonalDataCipher(setup.data_key))
        public_ids = asyncio.run(make_applications(setup.database_url, apps, items))
        plans = [events_of(public_id, items) for public_id in public_ids]
        events = sum(len(plan) for plan in plans)
        result = Result(code, str(src), kind, apps, events, concurrency)
        env = setup.portal_env() | {"PYTHONPATH": str(src)}
        log = tmp / "web.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve", "--port", str(setup.portal_port)],
                cwd=src,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        web = Proc("web", popen, log)
        try:
            wait_http(f"{setup.portal}/healthz", web)
            result.measured_at = datetime.now(UTC).isoformat(timespec="seconds")
            before = cpu_snapshot({"web": popen.pid})
            started = time.perf_counter()
            secret = setup.webhook_secret
            statuses = asyncio.run(send_all(setup.portal, secret, plans, concurrency))
            result.seconds = round(time.perf_counter() - started, 2)
            result.cpu = cpu_used(before, cpu_snapshot({"web": popen.pid}))
        finally:
            web.stop()
        result.load_average = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        result.statuses = {str(k): v for k, v in sorted(statuses.items())}
        result.rate = round(events / result.seconds, 1)
        result.web_ms_per_event = round(1000 * result.cpu["web"] / events, 2)
        result.postgres_ms_per_event = round(1000 * result.cpu["postgres"] / events, 2)
        result.others_share = round(result.cpu["others"] / max(result.cpu["machine_busy"], 1e-9), 2)
        result.timeline_lines, result.concluded = asyncio.run(
            check(setup.database_url, events, apps)
        )
        errors = [line for line in web.log_text().splitlines() if "ERROR" in line]
        if errors:
            print(f"{code}: {len(errors)} error lines, first: {errors[0][:300]}", file=sys.stderr)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--code", action="append", default=[], help="name=source tree (default: this one)"
    )
    args = parser.parse_args()
    codes = [tuple(c.split("=", 1)) for c in args.code] or [("this", str(ROOT))]
    results = []
    for _ in range(args.repeat):
        for code, src in codes:
            result = run_one(code, Path(src).resolve(), args.db, args.apps, args.concurrency)
            results.append(result)
            ok = result.timeline_lines == result.events and result.concluded == result.apps
            print(
                f"{code}: {result.rate}/s ({result.events} events in {result.seconds} s), "
                f"web {result.web_ms_per_event} ms/event, PostgreSQL "
                f"{result.postgres_ms_per_event} ms/event, others {result.others_share:.0%}, "
                f"load {result.load_average}, statuses {result.statuses}, "
                f"{'all applied once' if ok else 'MISMATCH'} "
                f"({result.timeline_lines} lines, {result.concluded} concluded)",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps(stored + [asdict(r) for r in results], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
