"""Whose licenses an actor may see: their own (by ID number, including licenses that name
them as a parent or guardian), and each enterprise they act for as legal representative or
as an agent given license rights (证照权限). Checked again on every request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.actor import Actor, capacities
from auth.crypto import PersonalDataCipher
from auth.models import AgentAuthorization, Person
from auth.services import ID_PURPOSE
from integrations.licenses import RESIDENT_ID, USCC, CodeType


@dataclass(frozen=True)
class Owner:
    """A wallet: the subject licenses belong to, and the code the library knows it by."""

    kind: str  # person | enterprise
    id: int
    name: str
    code: str
    code_type: CodeType

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


async def owners(db: AsyncSession, cipher: PersonalDataCipher, actor: Actor) -> list[Owner]:
    """The wallets this actor may open: the person's first, then enterprises."""
    person = await db.get(Person, actor.person_id)
    if person is None:
        return []
    found: list[Owner] = []
    if person.id_number_encrypted:
        code = cipher.decrypt(person.id_number_encrypted, ID_PURPOSE)
        found.append(Owner("person", person.id, person.name, code, RESIDENT_ID))
    options = await capacities(db, person)
    agent_ids = [c.authorization_id for c in options if c.authorization_id is not None]
    with_rights = set(
        (
            await db.scalars(
                select(AgentAuthorization.id).where(
                    AgentAuthorization.id.in_(agent_ids), AgentAuthorization.license_rights
                )
            )
        ).all()
    )
    seen: set[int] = set()
    for option in options:
        subject = option.subject
        if subject.kind != "enterprise" or subject.uscc is None or subject.id in seen:
            continue
        if option.capacity == "legal_representative" or option.authorization_id in with_rights:
            seen.add(subject.id)
            found.append(Owner("enterprise", subject.id, subject.name, subject.uscc, USCC))
    return found


async def may_use_subject_licenses(db: AsyncSession, actor: Actor) -> bool:
    """Whether the enterprise the actor acts for lends its licenses to this actor: always for
    its legal representative, for an agent only with license rights (证照权限)."""
    if actor.capacity == "legal_representative":
        return True
    if actor.capacity != "agent" or actor.authorization_id is None:
        return False
    grant = await db.get(AgentAuthorization, actor.authorization_id)
    return grant is not None and grant.license_rights


def owner_by_key(found: list[Owner], key: str) -> Owner | None:
    return next((owner for owner in found if owner.key == key), None)
