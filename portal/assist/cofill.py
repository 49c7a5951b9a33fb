"""Co-filling with consent: the citizen shares one draft with the session's assistant
(``view``: the assistant proposes, the citizen accepts or rejects field by field; ``direct``:
代办, the assistant may also enter values). Proposed and entered values go through the
form's own validation and land in the draft as typed values. Revoking ends all access at
once. Every step is written to the draft's audit trail with who did it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.applications import services as drafts
from portal.applications.models import Draft
from portal.assist.models import AssistConsent, AssistSession, CoFillProposal, DraftChange
from portal.catalog.schema import FieldType, FormField, OneThing
from portal.forms.applicability import applicable_items
from portal.forms.merged import merged_form
from portal.forms.validation import check_value

SCOPES = ("view", "direct")
# Values an assistant can propose in one text box; groups and addresses stay the citizen's.
PROPOSABLE = frozenset(
    {
        FieldType.TEXT,
        FieldType.TEXTAREA,
        FieldType.RESIDENT_ID,
        FieldType.USCC,
        FieldType.MOBILE,
        FieldType.EMAIL,
        FieldType.DATE,
        FieldType.CHOICE,
        FieldType.MONEY,
        FieldType.NUMBER,
        FieldType.BANK_ACCOUNT,
    }
)


class CoFillRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def audit(
    db: AsyncSession,
    draft_public_id: str,
    session: AssistSession | None,
    person_id: int,
    role: str,
    action: str,
    field_key: str | None = None,
) -> None:
    db.add(
        DraftChange(
            draft_public_id=draft_public_id,
            session_id=session.id if session else None,
            person_id=person_id,
            role=role,
            action=action,
            field_key=field_key,
            at=clock.now(),
        )
    )


async def active_consent(db: AsyncSession, session: AssistSession) -> AssistConsent | None:
    if session.status != "active":
        return None
    found: AssistConsent | None = await db.scalar(
        select(AssistConsent)
        .where(AssistConsent.session_id == session.id, AssistConsent.revoked_at.is_(None))
        .order_by(AssistConsent.id.desc())
    )
    return found


async def grant(
    db: AsyncSession, session: AssistSession, draft: Draft, scope: str
) -> AssistConsent:
    """The caller has checked the draft is the citizen's (applications.services.get_draft)."""
    if scope not in SCOPES:
        raise CoFillRefused("consent_scope")
    if session.status != "active":
        raise CoFillRefused("session_not_active")
    await end_consents(db, session)
    consent = AssistConsent(
        session_id=session.id,
        draft_public_id=draft.public_id,
        scope=scope,
        granted_at=clock.now(),
    )
    db.add(consent)
    session.draft_public_id = draft.public_id
    audit(db, draft.public_id, session, session.citizen_id, "citizen", f"consent_{scope}")
    await db.commit()
    return consent


async def revoke(db: AsyncSession, session: AssistSession) -> bool:
    """Ends the assistant's access to the draft and withdraws what they proposed."""
    consent = await active_consent(db, session)
    if consent is None:
        return False
    await end_consents(db, session)
    audit(db, consent.draft_public_id, session, session.citizen_id, "citizen", "consent_revoked")
    await db.commit()
    return True


async def end_consents(db: AsyncSession, session: AssistSession) -> None:
    """Every consent of the call ends, and every pending proposal is withdrawn."""
    now = clock.now()
    await db.execute(
        update(AssistConsent)
        .where(AssistConsent.session_id == session.id, AssistConsent.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await db.execute(
        update(CoFillProposal)
        .where(CoFillProposal.session_id == session.id, CoFillProposal.status == "pending")
        .values(status="withdrawn", decided_at=now)
    )


async def shared_draft(
    db: AsyncSession, session: AssistSession
) -> tuple[Draft, AssistConsent] | None:
    """The draft the assistant may see right now, or None: no consent, revoked, session
    over, or the draft submitted or expired meanwhile."""
    consent = await active_consent(db, session)
    if consent is None:
        return None
    draft = await db.scalar(select(Draft).where(Draft.public_id == consent.draft_public_id))
    if draft is None or draft.submitted_at is not None:
        return None
    if clock.aware(draft.expires_at) < clock.now():
        return None
    return draft, consent


def form_fields(draft: Draft, thing: OneThing) -> list[FormField]:
    items = applicable_items(thing, draft.answers)
    return merged_form(thing, items).fields


def proposable(draft: Draft, field: FormField) -> bool:
    locked = bool(draft.prefilled.get(field.key, {}).get("locked"))
    return field.type in PROPOSABLE and not locked


def _checked(draft: Draft, thing: OneThing, field_key: str, raw: str) -> tuple[FormField, Any]:
    field = next((f for f in form_fields(draft, thing) if f.key == field_key), None)
    if field is None or not proposable(draft, field):
        raise CoFillRefused("field_unknown")
    value, problems = check_value(field, raw, field.key)
    if problems:
        raise CoFillRefused(next(iter(problems.values())))
    return field, value


async def propose(
    db: AsyncSession,
    session: AssistSession,
    thing: OneThing,
    field_key: str,
    raw: str,
    direct: bool,
    days: int,
) -> CoFillProposal | None:
    """A checked value for one field: a proposal for the citizen, or (代办 consent and
    ``direct``) written into the draft at once. Raises CoFillRefused with a message code."""
    shared = await shared_draft(db, session)
    if shared is None:
        raise CoFillRefused("not_shared")
    draft, consent = shared
    field, value = _checked(draft, thing, field_key, raw)
    assert session.assistant_id is not None
    if direct:
        if consent.scope != "direct":
            raise CoFillRefused("not_direct")
        drafts.save_values(draft, {field.key: value}, days)
        audit(db, draft.public_id, session, session.assistant_id, "assistant", "entered", field.key)
        await db.commit()
        return None
    proposal = CoFillProposal(
        session_id=session.id,
        draft_public_id=draft.public_id,
        field_key=field.key,
        value={"v": value},
        status="pending",
        proposed_at=clock.now(),
    )
    db.add(proposal)
    audit(db, draft.public_id, session, session.assistant_id, "assistant", "proposed", field.key)
    await db.commit()
    return proposal


async def pending(db: AsyncSession, session: AssistSession) -> list[CoFillProposal]:
    rows = await db.execute(
        select(CoFillProposal)
        .where(CoFillProposal.session_id == session.id, CoFillProposal.status == "pending")
        .order_by(CoFillProposal.id)
    )
    return list(rows.scalars())


async def decide(
    db: AsyncSession,
    session: AssistSession,
    thing: OneThing,
    proposal_id: int,
    accept: bool,
    days: int,
) -> CoFillProposal:
    """The citizen accepts (the value lands in the draft, checked again) or rejects."""
    proposal = await db.get(CoFillProposal, proposal_id)
    if proposal is None or proposal.session_id != session.id or proposal.status != "pending":
        raise CoFillRefused("proposal_gone")
    shared = await shared_draft(db, session)
    if shared is None or shared[0].public_id != proposal.draft_public_id:
        raise CoFillRefused("proposal_gone")
    draft = shared[0]
    if accept:
        field, value = _checked(draft, thing, proposal.field_key, str(proposal.value["v"]))
        drafts.save_values(draft, {field.key: value}, days)
    proposal.status = "accepted" if accept else "rejected"
    proposal.decided_at = clock.now()
    action = "accepted" if accept else "rejected"
    audit(db, draft.public_id, session, session.citizen_id, "citizen", action, proposal.field_key)
    await db.commit()
    return proposal


async def trail(db: AsyncSession, draft_public_id: str) -> list[DraftChange]:
    rows = await db.execute(
        select(DraftChange)
        .where(DraftChange.draft_public_id == draft_public_id)
        .order_by(DraftChange.id)
    )
    return list(rows.scalars())


async def session_trail(db: AsyncSession, session: AssistSession) -> list[DraftChange]:
    rows = await db.execute(
        select(DraftChange).where(DraftChange.session_id == session.id).order_by(DraftChange.id)
    )
    return list(rows.scalars())
