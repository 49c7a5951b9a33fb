"""The subject and the operator of a submission, resolved for the package: names, ID numbers
decrypted, the agent's authorisation, the assurance level reached at sign-in."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from auth.actor import Actor
from auth.crypto import PersonalDataCipher
from auth.models import AgentAuthorization, Person
from auth.services import ID_PURPOSE, PHONE_PURPOSE
from portal import clock
from portal.applications.package import Operator, Party


async def person_party(db: AsyncSession, cipher: PersonalDataCipher, person_id: int) -> Party:
    person = await db.get(Person, person_id)
    if person is None:
        raise LookupError(person_id)
    return Party(
        name=person.name,
        id_number=cipher.decrypt(person.id_number_encrypted, ID_PURPOSE)
        if person.id_number_encrypted
        else None,
        mobile=cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE)
        if person.phone_encrypted
        else None,
    )


async def resolve(
    db: AsyncSession, cipher: PersonalDataCipher, actor: Actor
) -> tuple[Party, Operator]:
    me = await person_party(db, cipher, actor.person_id)
    subject = me
    if actor.subject.kind == "enterprise":
        subject = Party(name=actor.subject.name, uscc=actor.subject.uscc)
    authorisation = None
    if actor.capacity == "agent" and actor.authorization_id is not None:
        grant = await db.get(AgentAuthorization, actor.authorization_id)
        if grant is not None:
            granted_by = await db.get(Person, grant.granted_by_id)
            authorisation = {
                "reference": f"auth-{grant.id}",
                "granted_by": granted_by.name if granted_by else "",
                "valid_until": clock.china(grant.valid_until).date().isoformat(),
                "one_things": None if grant.all_matters else list(grant.thing_codes),
            }
    return subject, Operator(me, actor.capacity, actor.level, authorisation)


def id_tail(subject: Party) -> str | None:
    """What a person not signed in gives with the receipt number: the last 6 characters of
    the applicant's ID number (or of the enterprise's USCC)."""
    code = subject.id_number or subject.uscc
    return code[-6:].upper() if code else None
