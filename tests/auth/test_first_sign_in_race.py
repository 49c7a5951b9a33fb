"""One person's first sign-in arriving twice at once (two phones, a double tap, the load run's
parents) makes one person row and no error (it was an IntegrityError, a 500)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from sqlalchemy import event, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth import services
from auth.models import Person
from tests.ratings.helpers import run

CLAIMS = services.VerifiedClaims(
    issuer="https://idp.example/race",
    subject="racer",
    name="李娜",
    level="L3",
    id_number="410702199408270425",
    phone=None,
    roles=(),
    enterprise=None,
)


def test_two_first_sign_ins_at_once_make_one_person(client: TestClient, app: Starlette) -> None:
    async def one() -> int:
        async with app.state.sessionmaker() as db:
            person = await services.upsert_person(db, app.state.cipher, CLAIMS)
            await db.commit()
            return person.id

    async def race() -> tuple[list[int], int]:
        ids = list(await asyncio.gather(one(), one(), one()))
        async with app.state.sessionmaker() as db:
            count = await db.scalar(
                select(func.count()).select_from(Person).where(Person.subject == "racer")
            )
        return ids, int(count or 0)

    ids, count = run(client, race)
    assert len(set(ids)) == 1 and count == 1


def test_a_returning_person_costs_no_insert(client: TestClient, app: Starlette) -> None:
    """Nearly every sign-in is a returning person's: one SELECT finds them (the INSERT built
    and sent at every sign-in was a quarter of the callback's CPU, docs/load.md)."""
    claims = dataclasses.replace(CLAIMS, subject="returning")
    sent: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement.split()[0].upper() + " " + statement)

    async def sign_in() -> int:
        async with app.state.sessionmaker() as db:
            person = await services.upsert_person(db, app.state.cipher, claims)
            await db.commit()
            return person.id

    first = run(client, sign_in)
    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert run(client, sign_in) == first
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert not [s for s in sent if s.startswith("INSERT") and "people" in s]
    assert [s for s in sent if s.startswith("UPDATE") and "people" in s]  # name, time, level
