"""Who acts, for whom, at what level: loaded once per request from the session.

The acting subject is re-checked on every request: a legal representative must still hold
the role, an agent's authorisation must still be active and unexpired. When it no longer
holds, the person silently acts as themselves again (and pages say so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.models import AgentAuthorization, Enterprise, EnterpriseRole, Person
from portal import clock


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
    found = [Capacity(Subject("person", person.id, person.name), "self")]
    rows = await db.execute(
        select(Enterprise).join(EnterpriseRole).where(EnterpriseRole.person_id == person.id)
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
            AgentAuthorization.agent_person_id == person.id, AgentAuthorization.status == "active"
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


class ActorMiddleware:
    def __init__(self, app: ASGIApp, *, sessionmaker: async_sessionmaker[Any]) -> None:
        self.app = app
        self.sessionmaker = sessionmaker

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope.setdefault("state", {})["actor"] = await self._load(scope.get("session"))
        await self.app(scope, receive, send)

    async def _load(self, session: dict[str, Any] | None) -> Actor | None:
        if not session or "person_id" not in session:
            return None
        async with self.sessionmaker() as db:
            person = await db.get(Person, session["person_id"])
            if person is None:  # deleted account data
                session.clear()
                return None
            chosen = session.get("acting_for", "person:" + str(person.id))
            options = (
                await capacities(db, person)
                if chosen.startswith("enterprise:")
                else [Capacity(Subject("person", person.id, person.name), "self")]
            )
        current = next((c for c in options if c.subject.key == chosen), options[0])
        if current.subject.key != chosen:
            session["acting_for"] = current.subject.key
        return Actor(
            person_id=person.id,
            name=person.name,
            level=session.get("level", "L2"),
            via=session.get("via", "oidc"),
            roles=tuple(person.roles or ()),
            subject=current.subject,
            capacity=current.capacity,
            authorization_id=current.authorization_id,
            thing_codes=current.thing_codes,
        )


def current_actor(request: Request) -> Actor | None:
    actor: Actor | None = request.scope.get("state", {}).get("actor")
    return actor
