"""Who acts, for whom, at what level: loaded once per request from the session, on the
session row's connection (``load_actor``, a loader of portal.web.sessions.SessionMiddleware).

The acting subject is re-checked on every request: a legal representative must still hold
the role, an agent's authorisation must still be active and unexpired. When it no longer
holds, the person silently acts as themselves again (and pages say so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import Scope

from auth.models import AgentAuthorization, Enterprise, EnterpriseRole, Person
from portal import clock
from portal.web.sessions import Connect, Loader, SessionData


@dataclass(frozen=True)
class Subject:
    """The person or enterprise an application, rating or license use belongs to."""

    kind: str  # person | enterprise
    id: int
    name: str
    uscc: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Actor:
    person_id: int
    name: str
    level: str
    via: str  # oidc | wechat
    roles: tuple[str, ...]
    subject: Subject
    capacity: str  # self | legal_representative | agent
    authorization_id: int | None = None
    thing_codes: tuple[str, ...] | None = None  # an agent's scope; None = all matters

    @property
    def acts_for_enterprise(self) -> bool:
        return self.subject.kind == "enterprise"

    def may_handle(self, thing_code: str) -> bool:
        return self.thing_codes is None or thing_code in self.thing_codes


@dataclass(frozen=True)
class Capacity:
    """One subject a person may switch to, and why."""

    subject: Subject
    capacity: str
    authorization_id: int | None = None
    thing_codes: tuple[str, ...] | None = None


async def capacities(db: Any, person: Person) -> list[Capacity]:
    """Every subject the person may act for right now: themselves first."""
    return await capacities_of(db, person.id, person.name)


async def capacities_of(db: Any, person_id: int, name: str) -> list[Capacity]:
    found = [Capacity(Subject("person", person_id, name), "self")]
    rows = await db.execute(
        select(Enterprise).join(EnterpriseRole).where(EnterpriseRole.person_id == person_id)
    )
    for enterprise in rows.scalars():
        found.append(
            Capacity(
                Subject("enterprise", enterprise.id, enterprise.name, enterprise.uscc),
                "legal_representative",
            )
        )
    grants = await db.execute(
        select(AgentAuthorization, Enterprise)
        .join(Enterprise, Enterprise.id == AgentAuthorization.enterprise_id)
        .where(
            AgentAuthorization.agent_person_id == person_id, AgentAuthorization.status == "active"
        )
    )
    now = clock.now()
    for grant, enterprise in grants.all():
        if clock.aware(grant.valid_from) <= now < clock.aware(grant.valid_until):
            scope = None if grant.all_matters else tuple(grant.thing_codes)
            found.append(
                Capacity(
                    Subject("enterprise", enterprise.id, enterprise.name, enterprise.uscc),
                    "agent",
                    grant.id,
                    scope,
                )
            )
    return found


_PERSON = (Person.id, Person.name, Person.roles)


async def load_actor(
    connect: Connect | None,
    scope: Scope,
    session: SessionData,
    joined: Sequence[Any] | None,
) -> None:
    """Put the signed-in actor in the request state. The person comes joined to the session
    row (``joined``: id, name, roles); a row written before sessions recorded their person,
    or a deleted person, costs one more read."""
    state = scope.setdefault("state", {})
    state["actor"] = None
    if connect is None or "person_id" not in session:
        return
    person = joined if joined is not None and joined[0] == session["person_id"] else None
    if person is None:
        async with connect() as db:
            person = (
                await db.execute(select(*_PERSON).where(Person.id == session["person_id"]))
            ).first()
    if person is None:  # deleted account data
        session.clear()
        return
    person_id, name, roles = person
    chosen = session.get("acting_for", "person:" + str(person_id))
    if chosen.startswith("enterprise:"):
        # Rare and read more: acting for an enterprise re-checks the role or grant each time.
        async with connect() as db, AsyncSession(bind=db) as orm:
            options = await capacities_of(orm, person_id, name)
    else:
        options = [Capacity(Subject("person", person_id, name), "self")]
    current = next((c for c in options if c.subject.key == chosen), options[0])
    if current.subject.key != chosen:
        session["acting_for"] = current.subject.key
    state["actor"] = Actor(
        person_id=person_id,
        name=name,
        level=session.get("level", "L2"),
        via=session.get("via", "oidc"),
        roles=tuple(roles or ()),
        subject=current.subject,
        capacity=current.capacity,
        authorization_id=current.authorization_id,
        thing_codes=current.thing_codes,
    )


ACTOR_LOADER = Loader(load_actor, joined=Person.__table__, columns=_PERSON)  # type: ignore[arg-type]


def current_actor(request: Request) -> Actor | None:
    actor: Actor | None = request.scope.get("state", {}).get("actor")
    return actor
