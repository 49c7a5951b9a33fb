"""What the database guarantees and holds: 一事一评 even when two requests race, the public
figures read from stored ratings, and the platform's ``rating.*`` webhooks applied by the
sequence rule (shuffled, duplicated) and shown on the application in order."""

from __future__ import annotations

import asyncio
import json
import random
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.actor import Actor, Subject
from portal import clock
from portal.applications.models import Application, ApplicationEvent, OutboxMessage
from portal.ratings import figures, followup, services
from portal.ratings.models import Rating
from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from
from tests.ratings.helpers import application, person_id, ratings_of, run, stranger
from tests.relay.test_webhooks import post, secret_of


def _actor(person: int) -> Actor:
    subject = Subject("person", person, "王芳")
    return Actor(person, "王芳", "L3", "oidc", (), subject, "self")


def test_two_racing_ratings_store_one(client: TestClient, app: Starlette) -> None:
    person = stranger(client, app)
    public_id = application(client, app, person)
    answer = services.Answer(level=1, reasons=["slow"])
    both_read = asyncio.Barrier(2)  # neither writes before both have seen "not rated yet"

    async def one() -> Rating | None:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            thing = app.state.catalog.get("newborn")
            target = await services.target_for(db, found, thing, _actor(person), "")
            assert target is not None and target.rating is None  # both see "not rated yet"
            await both_read.wait()
            return await services.rate(
                db, app.state.cipher, _actor(person), found, target, answer, 5
            )

    async def race() -> list[Rating | None]:
        return list(await asyncio.gather(one(), one()))

    results = run(client, race)
    assert sorted(r is None for r in results) == [False, True]
    assert len(ratings_of(client, app, public_id)) == 1


def test_the_unique_constraint_itself_refuses_a_second_row(
    client: TestClient, app: Starlette
) -> None:
    person = stranger(client, app)
    public_id = application(client, app, person)

    async def twice() -> None:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            for _ in range(2):
                db.add(
                    Rating(
                        public_id=secrets.token_urlsafe(16),
                        application_id=found.id,
                        item_key="birth_certificate",
                        thing_code="newborn",
                        department="health",
                        rater_id=person,
                        level=4,
                        created_at=clock.now(),
                        heard_at=clock.now(),
                    )
                )
            await db.commit()

    with pytest.raises(IntegrityError):
        run(client, twice)


NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PAST = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def test_the_figures_read_from_the_database_equal_the_hand_computed_ones(
    client: TestClient, app: Starlette
) -> None:
    person = stranger(client, app)
    thing, department = f"fixture-{secrets.token_hex(4)}", f"dept-{secrets.token_hex(4)}"
    rows: list[dict[str, Any]] = [
        {"level": 5, "item_key": ""},
        {"level": 4, "item_key": "a", "department": department},
        {"level": 3, "item_key": "b", "department": department},
        {
            "level": 1,
            "item_key": "c",
            "department": department,
            "due_at": PAST,
            "followed_up_at": PAST - timedelta(days=3),
            "rectified_at": PAST - timedelta(days=1),
            "state": "closed",
        },
        {"level": 2, "item_key": "d", "due_at": PAST},  # not followed up, overdue
    ]

    async def insert() -> None:
        async with app.state.sessionmaker() as db:
            for n, values in enumerate(rows):
                db.add(
                    Rating(
                        public_id=secrets.token_urlsafe(16),
                        application_id=owner_app,
                        thing_code=thing,
                        department=values.pop("department", ""),
                        rater_id=person,
                        created_at=clock.now(),
                        heard_at=clock.now(),
                        **{"item_key": f"{values.pop('item_key')}{n}", **values},
                    )
                )
            await db.commit()

    async def owner() -> int:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application.id).where(Application.public_id == pid))
            assert found is not None
            return int(found)

    pid = application(client, app, person)
    owner_app = run(client, owner)
    run(client, insert)

    async def read() -> tuple[figures.Figures, figures.Figures]:
        async with app.state.sessionmaker() as db:
            return (
                await figures.for_thing(db, thing, NOW),
                await figures.for_department(db, department, NOW),
            )

    whole, dept = run(client, read)
    assert whole.per_level == {5: 1, 4: 1, 3: 1, 2: 1, 1: 1}
    assert (whole.satisfied, whole.bad, whole.followed_up) == (3, 2, 1)
    assert (whole.rectify_counted, whole.rectified_on_time) == (2, 1)
    assert dept.per_level == {5: 0, 4: 1, 3: 1, 2: 0, 1: 1}
    assert (dept.satisfaction_rate, dept.followup_rate, dept.on_time_rate) == (2 / 3, 1.0, 1.0)


def _event(rating_id: str, kinds: list[str], state: str) -> dict[str, Any]:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=clock.CHINA)
    steps = [
        {
            "sequence": n + 1,
            "kind": kind,
            "occurred_at": (start + timedelta(hours=n)).isoformat(),
            "by": "新乡市卫生健康委员会",
            "note": f"第{n + 1}步",
        }
        for n, kind in enumerate(kinds)
    ]
    return {
        "rating_id": rating_id,
        "sequence": len(kinds),
        "state": state,
        "occurred_at": steps[-1]["occurred_at"],
        "follow_up": {"status": "open", "events": steps},
    }


KINDS = ["verified", "rectification_planned", "rectified"]  # the follow-up steps, in order
STATES = ["verified", "rectifying", "rectified"]  # the rating's state after each


def _rated_badly(client: TestClient, app: Starlette) -> tuple[str, Rating]:
    """李娜 rates the birth certificate of a new application of hers 1 (very dissatisfied)."""
    sign_in(client, "li-na", "L3")
    public_id = application(client, app, person_id(client, app, "li-na"))
    path = f"/applications/{public_id}/items/birth_certificate/rate"
    token = csrf_token_from(client.get(path).text)
    client.post(path, data={"csrf_token": token, "level": "1", "reasons": "slow"})
    [rating] = ratings_of(client, app, public_id)
    return public_id, rating


@pytest.mark.parametrize("seed", [5, 6])
def test_follow_up_webhooks_shuffled_and_repeated_show_in_order(
    client: TestClient, app: Starlette, seed: int
) -> None:
    public_id, rating = _rated_badly(client, app)
    events = [
        (f"rating.{KINDS[n]}", _event(rating.public_id, KINDS[: n + 1], STATES[n]))
        for n in range(3)
    ]
    events = [*events, events[1]]
    random.Random(seed).shuffle(events)
    for kind, data in events:
        assert post(client, secret_of(app), kind, data).status_code == 204
    [rating] = ratings_of(client, app, public_id)
    assert (rating.state, rating.sequence) == ("rectified", 3)
    page = client.get(f"/applications/{public_id}").text
    section = page[page.index('id="ratings-head"') :]
    positions = [section.index(word) for word in ("已回访核实", "已制定整改计划", "已整改完成")]
    assert positions == sorted(positions)
    assert "第1步" in section and "评价整改结果" in section
    assert f"/ratings/{rating.public_id}/rectification" in section

    async def sms() -> list[str]:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            rows = await db.scalars(
                select(OutboxMessage.body).where(
                    OutboxMessage.application_id == found.id,
                    OutboxMessage.topic == "notify.sms",
                )
            )
            cipher = app.state.cipher
            return [json.loads(cipher.decrypt(b, "outbox.body"))["template"] for b in rows]

    # One text when the rectification is reported done, however the events arrived.
    assert run(client, sms).count("YJS_RECTIFIED") == 1

    # The citizen rates the fix: once, sent through the outbox.
    fix = f"/applications/{public_id}/ratings/{rating.public_id}/rectification"
    token = csrf_token_from(client.get(fix).text)
    refused = client.post(fix, data={"csrf_token": token, "comment": "好多了"})
    assert refused.status_code == 400 and "好多了" in refused.text
    done = client.post(
        fix, data={"csrf_token": token, "fix_level": "satisfied"}, follow_redirects=False
    )
    assert done.status_code == 303
    [rating] = ratings_of(client, app, public_id)
    assert rating.fix_level == "satisfied"
    assert client.get(fix, follow_redirects=False).status_code == 303  # not twice


def test_a_rating_webhook_for_an_unknown_rating_changes_nothing(
    client: TestClient, app: Starlette
) -> None:
    data = _event("no-such-rating-id", ["verified"], "verified")
    assert post(client, secret_of(app), "rating.verified", data).status_code == 204

    async def count() -> int:
        async with app.state.sessionmaker() as db:
            query = select(func.count()).select_from(ApplicationEvent)
            return int(
                await db.scalar(query.where(ApplicationEvent.kind == "rating.verified")) or 0
            )

    before = run(client, count)
    assert post(client, secret_of(app), "rating.verified", data).status_code == 204
    assert run(client, count) == before


def test_an_older_snapshot_applied_after_a_newer_one_from_a_stale_read_changes_nothing(
    client: TestClient, app: Starlette
) -> None:
    # SQLite ignores FOR UPDATE: two events applied at once both read the old sequence. The one
    # that writes last must not put its older snapshot over the newer one (test_live.py lost a
    # "rectified" this way: the platform at 3, the portal back at 2).
    public_id, rating = _rated_badly(client, app)
    rectifying, rectified = (_event(rating.public_id, KINDS[:n], STATES[n - 1]) for n in (2, 3))

    async def stale_then_newer() -> bool:
        async with app.state.sessionmaker() as slow, app.state.sessionmaker() as quick:
            stale = await slow.get(Rating, rating.id)
            assert stale is not None
            await slow.commit()  # the read is all it shares with the other writer
            newer = await quick.get(Rating, rating.id)
            assert newer is not None and await followup.take(quick, newer, rectified)
            await quick.commit()
            taken = await followup.take(slow, stale, rectifying)
            await slow.commit()
            assert (stale.state, stale.sequence) == ("rectified", 3)  # refreshed, not older
            return taken

    assert run(client, stale_then_newer) is False
    [rating] = ratings_of(client, app, public_id)
    assert (rating.state, rating.sequence) == ("rectified", 3)
