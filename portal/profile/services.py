"""Rules of the profile: validated entries, consents, export and deletion of account data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from auth.models import AgentAuthorization, EnterpriseRole, Person, WeChatBinding
from auth.services import ID_PURPOSE, PHONE_PURPOSE
from portal.profile.models import Consent, ProfileEntry

KINDS = ("address", "phone", "email")
REUSE = "form_reuse"
REUSE_SCOPE = "profile contacts and addresses; answers of my previous applications"
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_entry(kind: str, label: str, value: str) -> dict[str, str]:
    """Problems by field name; message keys the template translates."""
    problems: dict[str, str] = {}
    if kind not in KINDS:
        problems["kind"] = "choose_kind"
    if not label.strip() or len(label) > 50:
        problems["label"] = "label"
    value = value.strip()
    if not value:
        problems["value"] = "value_missing"
    elif kind == "phone" and not MOBILE.match(value.replace(" ", "")):
        problems["value"] = "value_phone"
    elif kind == "email" and not EMAIL.match(value):
        problems["value"] = "value_email"
    elif len(value) > 300:
        problems["value"] = "value_long"
    return problems


async def entries(db: AsyncSession, person_id: int) -> list[ProfileEntry]:
    rows = await db.execute(
        select(ProfileEntry).where(ProfileEntry.person_id == person_id).order_by(ProfileEntry.id)
    )
    return list(rows.scalars())


async def add_entry(db: AsyncSession, person_id: int, kind: str, label: str, value: str) -> None:
    db.add(
        ProfileEntry(
            person_id=person_id,
            kind=kind,
            label=label.strip(),
            value=value.strip(),
            created_at=datetime.now(UTC),
        )
    )


async def delete_entry(db: AsyncSession, person_id: int, entry_id: int) -> bool:
    """Only the owner's entry: another person's id deletes nothing."""
    result = await db.execute(
        delete(ProfileEntry).where(ProfileEntry.id == entry_id, ProfileEntry.person_id == person_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def consents(db: AsyncSession, person_id: int) -> list[Consent]:
    rows = await db.execute(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.granted_at.desc())
    )
    return list(rows.scalars())


def active_reuse_consent(history: list[Consent]) -> Consent | None:
    return next((c for c in history if c.purpose == REUSE and c.withdrawn_at is None), None)


async def grant_reuse(db: AsyncSession, person_id: int) -> None:
    if active_reuse_consent(await consents(db, person_id)) is None:
        db.add(
            Consent(
                person_id=person_id, purpose=REUSE, scope=REUSE_SCOPE, granted_at=datetime.now(UTC)
            )
        )


async def withdraw_reuse(db: AsyncSession, person_id: int) -> None:
    await db.execute(
        update(Consent)
        .where(
            Consent.person_id == person_id, Consent.purpose == REUSE, Consent.withdrawn_at.is_(None)
        )
        .values(withdrawn_at=datetime.now(UTC))
    )


async def bindings(db: AsyncSession, person_id: int) -> list[WeChatBinding]:
    rows = await db.execute(select(WeChatBinding).where(WeChatBinding.person_id == person_id))
    return list(rows.scalars())


async def unbind(db: AsyncSession, person_id: int, binding_id: int) -> bool:
    result = await db.execute(
        delete(WeChatBinding).where(
            WeChatBinding.id == binding_id, WeChatBinding.person_id == person_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def export(db: AsyncSession, cipher: PersonalDataCipher, person: Person) -> dict[str, Any]:
    """Everything stored about the person, decrypted for them (个人信息查阅复制权)."""
    granted = await db.execute(
        select(AgentAuthorization).where(
            or_(
                AgentAuthorization.granted_by_id == person.id,
                AgentAuthorization.agent_person_id == person.id,
            )
        )
    )
    roles = await db.execute(select(EnterpriseRole).where(EnterpriseRole.person_id == person.id))
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "person": {
            "name": person.name,
            "id_number": cipher.decrypt(person.id_number_encrypted, ID_PURPOSE)
            if person.id_number_encrypted
            else None,
            "phone": cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE)
            if person.phone_encrypted
            else None,
            "identity_provider": person.issuer,
            "subject": person.subject,
            "highest_level": person.highest_level,
            "roles": person.roles,
            "created_at": _iso(person.created_at),
            "last_sign_in_at": _iso(person.last_sign_in_at),
        },
        "contacts_and_addresses": [
            {"kind": e.kind, "label": e.label, "value": e.value, "created_at": _iso(e.created_at)}
            for e in await entries(db, person.id)
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "scope": c.scope,
                "granted_at": _iso(c.granted_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in await consents(db, person.id)
        ],
        "wechat_bindings": [
            {
                "appid": b.appid,
                "openid": b.openid,
                "level": b.level,
                "created_at": _iso(b.created_at),
            }
            for b in await bindings(db, person.id)
        ],
        "enterprise_roles": [
            {"enterprise_id": r.enterprise_id, "role": r.role} for r in roles.scalars()
        ],
        "agent_authorizations": [
            {
                "id": a.id,
                "enterprise_id": a.enterprise_id,
                "agent_name": a.agent_name,
                "granted_by_me": a.granted_by_id == person.id,
                "status": a.status,
                "valid_until": _iso(a.valid_until),
            }
            for a in granted.scalars()
        ],
    }


async def delete_account_data(db: AsyncSession, person: Person) -> None:
    """Erase what the person gave us; keep only what others rely on, anonymised.

    Kept: the person row itself (without name, ID number or phone) so that authorisations
    they granted for an enterprise stay auditable, ended at once.
    """
    now = datetime.now(UTC)
    for table in (ProfileEntry, Consent, WeChatBinding, EnterpriseRole):
        await db.execute(delete(table).where(table.person_id == person.id))
    await db.execute(
        update(AgentAuthorization)
        .where(
            or_(
                AgentAuthorization.granted_by_id == person.id,
                AgentAuthorization.agent_person_id == person.id,
            ),
            AgentAuthorization.status != "ended",
        )
        .values(status="ended", ended_at=now, ended_by_id=person.id)
    )
    person.name = "—"
    person.id_number_encrypted = None
    person.id_number_hash = None
    person.phone_encrypted = None
    person.roles = []
    person.subject = f"deleted:{person.id}:{person.subject}"
