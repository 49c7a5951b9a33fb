"""Rules of agent authorisations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from auth.crypto import PersonalDataCipher
from auth.models import AgentAuthorization, Enterprise, Person
from auth.services import ID_PURPOSE
from portal import clock

MAX_YEARS = 3
AGENT_PURPOSE = "agent.id_number"


@dataclass(frozen=True)
class GrantForm:
    agent_name: str
    agent_id_number: str
    valid_until: str
    all_matters: bool
    thing_codes: tuple[str, ...]
    license_rights: bool = False


def validate_grant(form: GrantForm, allowed_codes: set[str], today: date) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not form.agent_name.strip() or len(form.agent_name) > 100:
        problems["agent_name"] = "name"
    if not ric.is_valid(form.agent_id_number.replace(" ", "").upper()):
        problems["agent_id_number"] = "id_number"
    try:
        until = date.fromisoformat(form.valid_until)
    except ValueError:
        problems["valid_until"] = "date"
    else:
        if until <= today:
            problems["valid_until"] = "date_past"
        elif until > today.replace(year=today.year + MAX_YEARS):
            problems["valid_until"] = "date_far"
    if not form.all_matters and (
        not form.thing_codes or not set(form.thing_codes) <= allowed_codes
    ):
        problems["thing_codes"] = "scope"
    return problems


async def grant(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    enterprise_id: int,
    granted_by: int,
    form: GrantForm,
) -> AgentAuthorization:
    id_number = form.agent_id_number.replace(" ", "").upper()
    now = datetime.now(UTC)
    until = datetime.combine(date.fromisoformat(form.valid_until), time.max, tzinfo=UTC)
    authorization = AgentAuthorization(
        enterprise_id=enterprise_id,
        granted_by_id=granted_by,
        agent_name=form.agent_name.strip(),
        agent_id_number_hash=cipher.lookup_hash(id_number, ID_PURPOSE),
        agent_id_number_encrypted=cipher.encrypt(id_number, AGENT_PURPOSE),
        all_matters=form.all_matters,
        thing_codes=[] if form.all_matters else list(form.thing_codes),
        license_rights=form.license_rights,
        valid_from=now,
        valid_until=until,
        status="pending",
        created_at=now,
    )
    db.add(authorization)
    return authorization


async def for_enterprise(db: AsyncSession, enterprise_id: int) -> list[AgentAuthorization]:
    rows = await db.execute(
        select(AgentAuthorization)
        .where(AgentAuthorization.enterprise_id == enterprise_id)
        .order_by(AgentAuthorization.created_at.desc())
    )
    return list(rows.scalars())


async def for_agent(
    db: AsyncSession, person: Person
) -> list[tuple[AgentAuthorization, Enterprise]]:
    """Invitations addressed to this person's ID number, and the ones they accepted."""
    if person.id_number_hash is None:
        return []
    rows = await db.execute(
        select(AgentAuthorization, Enterprise)
        .join(Enterprise, Enterprise.id == AgentAuthorization.enterprise_id)
        .where(
            AgentAuthorization.agent_id_number_hash == person.id_number_hash,
            AgentAuthorization.status != "ended",
        )
        .order_by(AgentAuthorization.created_at.desc())
    )
    return [(a, e) for a, e in rows.all()]


def is_current(authorization: AgentAuthorization, now: datetime | None = None) -> bool:
    return authorization.status != "ended" and (now or clock.now()) < clock.aware(
        authorization.valid_until
    )


async def accept(db: AsyncSession, person: Person, authorization_id: int) -> bool:
    """Only the person whose ID number the invitation names, only while it is pending."""
    authorization = await db.get(AgentAuthorization, authorization_id)
    if (
        authorization is None
        or authorization.status != "pending"
        or authorization.agent_id_number_hash != person.id_number_hash
        or not is_current(authorization)
    ):
        return False
    authorization.status = "active"
    authorization.agent_person_id = person.id
    authorization.accepted_at = datetime.now(UTC)
    return True


async def end(
    db: AsyncSession, authorization_id: int, *, by_person: Person, as_enterprise_id: int | None
) -> bool:
    """The legal representative (acting for its enterprise) or the agent may end it."""
    authorization = await db.get(AgentAuthorization, authorization_id)
    if authorization is None or authorization.status == "ended":
        return False
    is_enterprise = as_enterprise_id is not None and authorization.enterprise_id == as_enterprise_id
    is_agent = authorization.agent_id_number_hash == by_person.id_number_hash
    if not (is_enterprise or is_agent):
        return False
    authorization.status = "ended"
    authorization.ended_at = datetime.now(UTC)
    authorization.ended_by_id = by_person.id
    return True


def default_until(today: date) -> str:
    return (today + timedelta(days=365)).isoformat()
