"""The application page's plain-SQL read (progress_read): the same context as the ORM reads
the other pages use, the same access rules, in one statement (the htmx poll without the
timeline and reminders)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.actor import Actor, Subject
from portal import clock
from portal.applications import aftercare, progress_read
from portal.applications.models import Application, ApplicationEvent, OutboxMessage
from portal.db_reads import reading
from portal.notifications.models import Notification
from portal.ratings import view as ratings_view
from portal.ratings.models import Rating
from tests.auth.helpers import sign_in
from tests.ratings.helpers import application, person_id, run, stranger
from tests.statements import recorded

SUPPLEMENT = {"notice_id": "n1", "kind": "supplement", "status": "open", "summary": "补一张照片"}


def _fill(client: TestClient, app: Starlette, public_id: str, owner: int, other: int) -> None:
    """Everything the page shows: notices, a timeline out of order, reminders, pending
    and sent outbox rows, a bad rating with its follow-up, and someone else's rating."""

    async def fill() -> None:
        now = clock.now()
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            found.status = "in_progress"
            due = (now + timedelta(days=9)).isoformat()
            found.platform = {"notices": [SUPPLEMENT], "deadline": {"due_at": due}}
            for minutes, kind, key in ((5, "item.accepted", "household"), (9, "relayed", None)):
                db.add(
                    ApplicationEvent(
                        application_id=found.id,
                        item_key=key,
                        kind=kind,
                        occurred_at=now - timedelta(minutes=minutes),
                        data={"reason": "原因"} if key else {},
                    )
                )
            for minutes, channel, state in ((3, "sms", "sent"), (1, "wechat", "failed")):
                db.add(
                    Notification(
                        application_id=found.id,
                        person_id=owner,
                        channel=channel,
                        event="e",
                        template="t",
                        params={},
                        state=state,
                        created_at=now - timedelta(minutes=minutes),
                    )
                )
            for topic, state in (("intake.withdraw", "pending"), ("intake.supplement", "sent")):
                db.add(
                    OutboxMessage(
                        topic=topic,
                        idempotency_key=secrets.token_hex(8),
                        application_id=found.id,
                        body=b"x",
                        state=state,
                        created_at=now,
                        # Never due: the relay of a later test must not claim this fake row.
                        available_at=now + timedelta(days=3650),
                    )
                )
            for rater, key, level in ((owner, "birth_certificate", 1), (other, "household", 5)):
                db.add(
                    Rating(
                        public_id=secrets.token_hex(8),
                        application_id=found.id,
                        item_key=key,
                        thing_code="newborn",
                        department="health",
                        rater_id=rater,
                        level=level,
                        reasons=["slow"],
                        comment={"text": "太慢"},
                        created_at=now,
                        heard_at=now,
                        relay_status="relayed",
                        state="rectified",
                        followup={"events": [{"kind": "verified", "by": "卫健委"}]},
                        due_at=now + timedelta(days=5),
                        rectified_at=now,
                    )
                )
            await db.commit()

    run(client, fill)


@pytest.fixture
def filled(app: Starlette) -> Iterator[list[str]]:
    """Applications given fake rows by ``_fill``; removed afterwards, for the tests that follow
    relay the outbox and reconcile quiet ratings of the whole database."""
    made: list[str] = []
    yield made

    async def remove() -> None:
        async with app.state.sessionmaker() as db:
            ids = select(Application.id).where(Application.public_id.in_(made))
            for table in (OutboxMessage, Rating, Notification, ApplicationEvent):
                await db.execute(delete(table).where(table.application_id.in_(ids)))
            await db.execute(delete(Application).where(Application.id.in_(ids)))
            await db.commit()

    with TestClient(app) as client:
        run(client, remove)


def _actor(person: int, subject: Subject, scope: tuple[str, ...] | None = None) -> Actor:
    capacity = "self" if subject.kind == "person" else "agent"
    return Actor(person, "某人", "L3", "oidc", (), subject, capacity, thing_codes=scope)


def _flat(context: dict[str, Any]) -> dict[str, Any]:
    """What the template reads of the context, as plain values."""
    a = context["application"]
    return {
        "application": (a.public_id, a.status, a.relay_status, a.submission_number, a.figures),
        "items": [(v.key, v.state, v.deadline, v.snapshot, v.item) for v in context["items"]],
        "timeline": [
            (e.id, e.kind, e.item_key, e.occurred_at, e.data) for e in context["timeline"]
        ],
        "notifications": [(n.channel, n.state, n.created_at) for n in context["notifications"]],
        "ratings": [
            (
                s.target.item_key,
                s.target.open,
                s.target.rating and (s.target.rating.public_id, s.target.rating.level),
                s.target.rating and (s.target.rating.fix_level, s.target.rating.anonymous),
                s.steps,
                s.deadline,
                s.may_rate_fix,
            )
            for s in context["ratings"]
        ],
        **{
            key: context[key]
            for key in (
                *("notices", "supplement", "supplement_pending", "withdrawal_pending"),
                *("can_withdraw", "finished", "deadline", "done_count", "ratings_live"),
            )
        },
    }


def test_the_same_context_as_the_orm_reads(
    client: TestClient, app: Starlette, filled: list[str]
) -> None:
    sign_in(client, "li-na", "L3")
    owner = person_id(client, app, "li-na")
    public_id = application(client, app, owner, status="in_progress")
    filled.append(public_id)
    _fill(client, app, public_id, owner, stranger(client, app))
    actor = _actor(owner, Subject("person", owner, "李娜"))
    thing = app.state.catalog.get("newborn")

    async def orm() -> dict[str, Any]:
        async with app.state.sessionmaker() as db:
            found = await aftercare.application_for(db, public_id, actor)
            assert found is not None
            context = await aftercare.page_context(db, found, thing)
            return context | await ratings_view.section(
                db, found, thing, actor, item_rows=context["item_rows"]
            )

    async def core() -> dict[str, Any]:
        async with reading(app.state.engine) as db:
            read = await progress_read.page(db, public_id, actor)
            assert read is not None
            found, rows = read
        context = aftercare.context_of(
            found, thing, rows.items, rows.events, rows.notifications, rows.pending_topics
        )
        return context | ratings_view.shown_of(found, thing, rows.items, rows.ratings)

    expected, got = _flat(run(client, orm)), _flat(run(client, core))
    assert got == expected
    assert len(got["timeline"]) == 2 and len(got["notifications"]) == 2
    assert got["withdrawal_pending"] and not got["supplement_pending"] and got["supplement"]
    assert [r[0] for r in got["ratings"]] == ["birth_certificate"]  # not the other's
    assert got["ratings"][0][6]  # may rate the rectification


def test_only_who_may_see_it_reads_it(client: TestClient, app: Starlette) -> None:
    owner = stranger(client, app)
    public_id = application(client, app, owner)

    async def read(actor: Actor) -> bool:
        async with reading(app.state.engine) as db:
            return await progress_read.page(db, public_id, actor) is not None

    def sees(actor: Actor) -> bool:
        seen: bool = run(client, lambda: read(actor))
        return seen

    me, firm = Subject("person", owner, "王芳"), Subject("enterprise", 7, "好味道")
    assert sees(_actor(owner, me))
    assert not sees(_actor(owner + 1000, Subject("person", owner + 1000, "别人")))
    assert not sees(_actor(owner + 1000, me))  # the subject alone is not enough
    assert not sees(_actor(owner, firm))

    async def to_enterprise() -> None:
        async with app.state.sessionmaker() as db:
            await db.execute(
                update(Application)
                .where(Application.public_id == public_id)
                .values(subject_kind="enterprise", subject_id=7)
            )
            await db.commit()

    run(client, to_enterprise)
    assert sees(_actor(owner + 1000, firm))  # an agent acting for the enterprise, all matters
    assert sees(_actor(owner + 1000, firm, ("newborn",)))
    assert not sees(_actor(owner + 1000, firm, ("restaurant",)))  # out of the agent's scope
    assert not sees(_actor(owner, me))


@pytest.fixture
def statements(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    with recorded(app.state.engine, monkeypatch) as seen:
        yield seen


def test_the_page_reads_in_one_statement_and_the_poll_less(
    client: TestClient, app: Starlette, statements: list[str], filled: list[str]
) -> None:
    sign_in(client, "li-na", "L3")
    owner = person_id(client, app, "li-na")
    public_id = application(client, app, owner, status="in_progress")
    filled.append(public_id)
    _fill(client, app, public_id, owner, stranger(client, app))
    client.get("/")  # the session's once-a-minute touch, if due, happens here
    statements.clear()
    page = client.get(f"/applications/{public_id}")
    assert page.status_code == 200 and "补一张照片" in page.text and "卫健委" in page.text
    own = [s for s in statements if "web_sessions" not in s]
    assert len(own) == 1, own
    assert "application_events" in own[0] and "notifications" in own[0]
    statements.clear()
    poll = client.get(f"/applications/{public_id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and 'id="live"' in poll.text and "办理记录" not in poll.text
    own = [s for s in statements if "web_sessions" not in s]
    assert len(own) == 1 and "application_events" not in own[0], own
