"""Applications put straight into the test database, as the platform would have left them,
for a person who signed in (or someone else), and reading back what rating wrote."""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from auth.models import Person
from portal import clock
from portal.applications import services
from portal.applications.models import Application, ApplicationItem, OutboxMessage
from portal.ratings.models import Rating
from portal.relay import outbox

ITEMS = (("birth_certificate", "health", "delivered"), ("household", "police", "accepted"))


def run(client: TestClient, make: Any) -> Any:
    return client.portal.call(make)  # type: ignore[union-attr]


def stranger(client: TestClient, app: Starlette) -> int:
    async def insert() -> int:
        async with app.state.sessionmaker() as db:
            now = clock.now()
            person = Person(
                issuer="https://idp.test",
                subject=secrets.token_hex(8),
                name="王芳",
                roles=[],
                highest_level="L3",
                created_at=now,
                last_sign_in_at=now,
            )
            db.add(person)
            await db.commit()
            return person.id

    found: int = run(client, insert)
    return found


def person_id(client: TestClient, app: Starlette, subject: str) -> int:
    async def load() -> int:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(
                select(Person.id)
                .where(Person.subject == subject)
                .order_by(Person.last_sign_in_at.desc())
                .limit(1)
            )
            assert found is not None
            return int(found)

    found: int = run(client, load)
    return found


def application(
    client: TestClient,
    app: Starlette,
    owner: int,
    status: str = "concluded",
    items: tuple[tuple[str, str, str], ...] = ITEMS,
) -> str:
    """A relayed newborn application of ``owner``; returns its public id."""

    async def insert() -> str:
        async with app.state.sessionmaker() as db:
            found = Application(
                public_id=services.new_public_id(),
                draft_public_id=services.new_public_id(),
                thing_code="newborn",
                subject_kind="person",
                subject_id=owner,
                operator_id=owner,
                answers={},
                values={"mobile": "13837310521"},
                materials={},
                figures={
                    "fields": 10,
                    "fields_filled_for_you": 6,
                    "items": 2,
                    "materials_separately": 4,
                    "materials_uploaded": 1,
                    "materials_from_licenses": 2,
                },
                status=status,
                submitted_at=clock.now(),
                sequence=3,
                relay_status="relayed",
            )
            db.add(found)
            await db.flush()
            for key, department, state in items:
                db.add(
                    ApplicationItem(
                        application_id=found.id,
                        item_key=key,
                        department=department,
                        promised_days=1,
                        status=state,
                        sequence=4,
                    )
                )
            await db.commit()
            return found.public_id

    public_id: str = run(client, insert)
    return public_id


def ratings_of(client: TestClient, app: Starlette, public_id: str) -> list[Rating]:
    async def load() -> list[Rating]:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            rows = await db.scalars(select(Rating).where(Rating.application_id == found.id))
            return list(rows)

    found: list[Rating] = run(client, load)
    return found


def sent(client: TestClient, app: Starlette, public_id: str, topic: str) -> list[dict[str, Any]]:
    """The outbox envelopes of ``topic`` for the application, unsealed."""

    async def load() -> list[dict[str, Any]]:
        async with app.state.sessionmaker() as db:
            found = await db.scalar(select(Application).where(Application.public_id == public_id))
            assert found is not None
            rows = await db.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.application_id == found.id, OutboxMessage.topic == topic
                )
            )
            cipher = app.state.cipher
            return [json.loads(cipher.decrypt(row.body, outbox.PURPOSE)) for row in rows]

    found: list[dict[str, Any]] = run(client, load)
    return found
