"""Sign-in rules: store or update the person from verified claims, start the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric, uscc

from auth.crypto import PersonalDataCipher
from auth.levels import LEVELS, WECHAT_MAX_LEVEL, lower, rank
from auth.models import Enterprise, EnterpriseRole, Person, WeChatBinding
from portal.web.sessions import rotate

ID_PURPOSE = "person.id_number"
PHONE_PURPOSE = "person.phone"


# Staff roles as the identity provider names them (the ``roles`` claim) → the portal's role.
STAFF_ROLES = {"帮办员": "assistant", "assistant": "assistant"}


def portal_roles(claimed: tuple[str, ...]) -> list[str]:
    """The portal's roles for the claimed ones; a claim the portal does not know gives none."""
    return sorted({STAFF_ROLES[role] for role in claimed if role in STAFF_ROLES})


class ClaimsError(Exception):
    """The provider's claims cannot identify a person (missing or invalid)."""


@dataclass(frozen=True)
class VerifiedClaims:
    issuer: str
    subject: str
    name: str
    level: str
    id_number: str | None
    phone: str | None
    roles: tuple[str, ...]
    enterprise: dict[str, str] | None


def claims_from(issuer: str, id_token: dict[str, Any], userinfo: dict[str, Any]) -> VerifiedClaims:
    if userinfo.get("sub") and userinfo["sub"] != id_token.get("sub"):
        raise ClaimsError("userinfo belongs to another subject")
    level = id_token.get("acr")
    if level not in LEVELS:
        raise ClaimsError(f"unknown assurance level {level!r}")
    id_number = userinfo.get("id_number")
    if id_number is not None:
        id_number = str(id_number).replace(" ", "").upper()
        if not ric.is_valid(id_number):
            raise ClaimsError("the provider sent an invalid resident ID number")
    enterprise = userinfo.get("enterprise")
    if enterprise is not None and not (
        isinstance(enterprise, dict) and uscc.is_valid(str(enterprise.get("uscc", "")))
    ):
        raise ClaimsError("the provider sent an invalid enterprise claim")
    name = userinfo.get("name") or id_token.get("name")
    if not name:
        raise ClaimsError("the provider sent no name")
    return VerifiedClaims(
        issuer=issuer,
        subject=str(id_token["sub"]),
        name=str(name),
        level=str(level),
        id_number=id_number,
        phone=userinfo.get("phone_number"),
        roles=tuple(str(r) for r in userinfo.get("roles", ())),
        enterprise=enterprise,
    )


async def upsert_person(
    db: AsyncSession, cipher: PersonalDataCipher, claims: VerifiedClaims
) -> Person:
    now = datetime.now(UTC)
    person = await _person(db, claims)
    if person is None:
        # Two first sign-ins of one person at once (two phones, a double tap) both find no
        # row: insert-or-nothing, then read, so neither fails on the unique (issuer, subject).
        # Only then: a returning person (nearly every sign-in) costs one SELECT, not an
        # INSERT built and sent each time (a quarter of the callback's CPU, docs/load.md).
        insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
        await db.execute(
            insert(Person)
            .values(
                issuer=claims.issuer,
                subject=claims.subject,
                name=claims.name,
                roles=[],
                highest_level=claims.level,
                created_at=now,
                last_sign_in_at=now,
            )
            .on_conflict_do_nothing(index_elements=["issuer", "subject"])
        )
        person = await _person(db, claims)
    assert person is not None
    person.name = claims.name
    person.roles = portal_roles(claims.roles)
    person.last_sign_in_at = now
    if rank(claims.level) > rank(person.highest_level):
        person.highest_level = claims.level
    if claims.id_number:
        person.id_number_encrypted = cipher.encrypt(claims.id_number, ID_PURPOSE)
        person.id_number_hash = cipher.lookup_hash(claims.id_number, ID_PURPOSE)
    if claims.phone:
        person.phone_encrypted = cipher.encrypt(claims.phone, PHONE_PURPOSE)
    await db.flush()
    if claims.enterprise:
        await _record_role(db, person, claims.enterprise, now)
    return person


async def _person(db: AsyncSession, claims: VerifiedClaims) -> Person | None:
    found: Person | None = await db.scalar(
        select(Person).where(Person.issuer == claims.issuer, Person.subject == claims.subject)
    )
    return found


async def _record_role(
    db: AsyncSession, person: Person, claim: dict[str, str], now: datetime
) -> None:
    enterprise = await db.scalar(select(Enterprise).where(Enterprise.uscc == claim["uscc"]))
    if enterprise is None:
        enterprise = Enterprise(uscc=claim["uscc"], name=claim.get("name", claim["uscc"]))
        db.add(enterprise)
        await db.flush()
    enterprise.name = claim.get("name", enterprise.name)
    role = await db.scalar(
        select(EnterpriseRole).where(
            EnterpriseRole.person_id == person.id, EnterpriseRole.enterprise_id == enterprise.id
        )
    )
    if role is None:
        role = EnterpriseRole(person_id=person.id, enterprise_id=enterprise.id)
        db.add(role)
    role.role = claim.get("role", "legal_representative")
    role.asserted_at = now


def start_session(
    session: dict[str, Any], person: Person, level: str, via: str, id_token: str | None = None
) -> None:
    """A fresh session id at every sign-in (no fixation), the old data dropped."""
    session.clear()
    session.update(
        {
            "person_id": person.id,
            "level": level,
            "via": via,
            "signed_in_at": datetime.now(UTC).isoformat(),
        }
    )
    if id_token:
        session["id_token"] = id_token
    rotate(session)


async def bind_wechat(
    db: AsyncSession, person: Person, pending: dict[str, str], level: str
) -> WeChatBinding:
    existing = await db.scalar(
        select(WeChatBinding).where(WeChatBinding.openid == pending["openid"])
    )
    if existing is not None:
        await db.delete(existing)
        await db.flush()
    binding = WeChatBinding(
        person_id=person.id,
        appid=pending["appid"],
        openid=pending["openid"],
        unionid=pending.get("unionid"),
        level=level,
        created_at=datetime.now(UTC),
    )
    db.add(binding)
    return binding


def wechat_level(binding: WeChatBinding) -> str:
    return lower(binding.level, WECHAT_MAX_LEVEL)
