"""CPU of ``services.submit`` before and after a change, in one process, interleaved.

Process-level runs (bench/relay_throughput.py) on this shared machine vary by ±15% from run to
run, more than a change to one function makes. This calls the two versions of the submit
function alternately on copies of one real draft, in the same process and database, and
compares the process CPU (``time.process_time``: the ORM, the driver, sealing; not the
database server) per call.

Run (SQLite, or PostgreSQL with PORTAL_TEST_DATABASE_URL as for the tests), with the older
``services.py`` saved first (`git show <commit>:portal/applications/services.py >
/tmp/services_before.py`):
`SUBMIT_AB_BEFORE=/tmp/services_before.py PYTHONPATH=. .venv/bin/pytest -p tests.conftest
bench/submit_ab.py -q -s`. SUBMIT_AB_N: calls of each version (default 60).
"""

from __future__ import annotations

import cProfile
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.actor import Actor, Subject
from portal.applications import parties, services
from portal.applications.models import Draft, Upload
from portal.db import make_engine, make_sessionmaker
from tests.relay.live import fill_newborn

BEFORE = os.environ.get("SUBMIT_AB_BEFORE", "")
N = int(os.environ.get("SUBMIT_AB_N", "60"))
# SUBMIT_AB_PROFILE=file: a cProfile of the newer version's calls (its timings then count the
# profiler too: use it to see where the time goes, not for the comparison).
PROFILE = cProfile.Profile() if os.environ.get("SUBMIT_AB_PROFILE") else None


def _load_before() -> Any:
    spec = importlib.util.spec_from_file_location("services_before", BEFORE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not BEFORE, reason="SUBMIT_AB_BEFORE names the older services.py")
def test_submit_cpu_before_and_after(client: TestClient, app: Starlette) -> None:
    before = _load_before()
    base = fill_newborn(client)
    public_id = base.rsplit("/", 1)[1]
    catalog = app.state.catalog
    cipher = app.state.cipher
    settings = app.state.settings

    async def copies(count: int) -> list[int]:
        async with app.state.sessionmaker() as db:
            source = await db.scalar(select(Draft).where(Draft.public_id == public_id))
            assert source is not None
            uploads = list(await db.scalars(select(Upload).where(Upload.draft_id == source.id)))
            made = []
            for _ in range(count):
                draft = Draft(
                    **{
                        c: getattr(source, c)
                        for c in (
                            *("thing_code", "subject_kind", "subject_id", "operator_id"),
                            *("answers", "values", "prefilled", "materials"),
                            *("created_at", "updated_at", "expires_at"),
                        )
                    },
                    public_id=services.new_public_id(),
                )
                db.add(draft)
                await db.flush()
                for upload in uploads:
                    db.add(
                        Upload(
                            **{
                                c: getattr(upload, c)
                                for c in (
                                    *("owner_id", "material_key", "stored_name"),
                                    *("content_type", "size", "sha256", "original_name"),
                                    "created_at",
                                )
                            },
                            public_id=services.new_public_id(),
                            draft_id=draft.id,
                        )
                    )
                made.append(draft.id)
            await db.commit()
            return made

    pooled: list[async_sessionmaker[AsyncSession]] = []

    async def submit_one(module: Any, draft_id: int, actor: Actor) -> float:
        # A pool as the server keeps (the tests' engine opens a connection per session, and
        # a new connection prepares every statement again).
        if not pooled:
            pooled.append(make_sessionmaker(make_engine(settings.database_url, 5)))
        async with pooled[0]() as db:
            draft = await db.get(Draft, draft_id)
            assert draft is not None
            found = list(await db.scalars(select(Upload).where(Upload.draft_id == draft_id)))
            thing = catalog.get(draft.thing_code)
            subject, operator = await parties.resolve(db, cipher, actor)
            handover = services.Handover(
                subject, operator, cipher, settings.intake_files_url, settings.secret_key
            )
            effect = catalog.effects[thing.code]
            started = time.process_time()
            if PROFILE is not None and module is services:
                PROFILE.enable()
            await module.submit(db, draft, thing, found, effect, handover)
            if PROFILE is not None:
                PROFILE.disable()
            return time.process_time() - started

    async def actor_of() -> Actor:
        async with app.state.sessionmaker() as db:
            draft = await db.scalar(select(Draft).where(Draft.public_id == public_id))
            assert draft is not None
            person = Subject("person", draft.operator_id, "李娜")
            return Actor(draft.operator_id, "李娜", "L3", "oidc", (), person, "self")

    actor = client.portal.call(actor_of)  # type: ignore[union-attr]
    drafts = client.portal.call(copies, 2 * N + 4)  # type: ignore[union-attr]
    times: dict[str, list[float]] = {"before": [], "after": []}
    versions = {"before": before, "after": services}
    for index, draft_id in enumerate(drafts):
        order = ("before", "after") if (index // 2) % 2 == 0 else ("after", "before")
        name = order[index % 2]  # ABBA: neither version always goes first
        call = client.portal.call  # type: ignore[union-attr]
        spent = call(submit_one, versions[name], draft_id, actor)
        if index >= 4:  # warm-up: caches of both versions filled
            times[name].append(spent)
    if PROFILE is not None:
        PROFILE.dump_stats(os.environ["SUBMIT_AB_PROFILE"])
    b, a = (statistics.median(times[k]) * 1000 for k in ("before", "after"))
    print(
        f"\nservices.submit CPU per call, median of {len(times['after'])} each: "
        f"before {b:.2f} ms, after {a:.2f} ms ({(a - b) / b:+.0%}); "
        f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"
    )
