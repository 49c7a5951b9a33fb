"""A citizen and an assistant signed in (session rows, as sign-in leaves them) and an active
call between them, written straight to the database: for tests and bench/ that exercise the
live path, not the way there."""

from __future__ import annotations

import hashlib
import json
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from auth.models import Person
from portal import clock
from portal.assist.models import AssistSession
from portal.web.sessions import WebSession


async def signed_in_pair(db: AsyncSession, issuer: str) -> dict[str, str]:
    """Adds the pair and their call; returns the session cookies by role and the call's
    public id (``session``). The caller commits."""
    now = clock.now()
    tokens: dict[str, str] = {}
    people = {}
    for role, roles in (("citizen", []), ("assistant", ["assistant"])):
        people[role] = Person(
            issuer=issuer,
            subject=f"{role}-{secrets.token_hex(6)}",
            name=role,
            roles=roles,
            highest_level="L3",
            created_at=now,
            last_sign_in_at=now,
        )
        db.add(people[role])
    await db.flush()
    for role, person in people.items():
        tokens[role] = secrets.token_urlsafe(32)
        db.add(
            WebSession(
                token_hash=hashlib.sha256(tokens[role].encode()).hexdigest(),
                data=json.dumps({"person_id": person.id, "level": "L3"}),
                created_at=now,
                last_seen_at=now,
            )
        )
    call = AssistSession(
        public_id=secrets.token_urlsafe(16),
        citizen_id=people["citizen"].id,
        assistant_id=people["assistant"].id,
        thing_code="newborn",
        status="active",
        queued_at=now,
        started_at=now,
        notes={},
    )
    db.add(call)
    tokens["session"] = call.public_id
    return tokens
