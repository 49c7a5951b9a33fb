"""Licenses given as application materials (免提交) go through the wallet's consent and log:
the applicant ticked the consent on the materials page; on submission each license given
becomes an ``application`` grant to the department that needs it, with a ``material`` entry
in the usage log. Idempotent: a resubmitted form records nothing twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.applications.models import Application
from portal.catalog.loader import Catalog
from portal.forms.applicability import applicable_items
from portal.forms.merged import items_needing, materials_for
from portal.wallet import usage
from portal.wallet.grants import token_hash
from portal.wallet.models import UseGrant

KEEP = timedelta(days=365)  # the department keeps what it was given for its file


async def record(
    db: AsyncSession,
    catalog: Catalog,
    application: Application,
    enterprise_name: str | None,
    *,
    new_application: bool = False,
) -> int:
    """Grants and log entries for the licenses this application used; returns how many.
    ``new_application``: in the transaction that creates it, so nothing can be recorded yet."""
    if not new_application:
        exists = await db.scalar(
            select(UseGrant.id).where(UseGrant.application_id == application.id)
        )
        if exists is not None:
            return 0
    thing = catalog.things.get(application.thing_code)
    if thing is None:
        return 0
    items = applicable_items(thing, application.answers)
    reason = f"办理{thing.name.zh_Hans}（{application.submission_number}）"
    given: list[tuple[UseGrant, dict[str, str], str]] = []
    for material in materials_for(thing, items, application.values):
        state: dict[str, Any] = application.materials.get(material.key, {})
        if state.get("mode") != "license" or not state.get("consent"):
            continue
        needing = items_needing(material.key, items)
        department = catalog.departments[
            needing[0].department if needing else thing.lead_department
        ]
        on_enterprise = enterprise_name is not None and state.get("holder_name") == enterprise_name
        kind, subject_id = (
            ("enterprise", application.subject_id)
            if on_enterprise
            else ("person", application.operator_id)
        )
        license = {
            "id": str(state.get("license_id", "")),
            "identifier": str(state.get("identifier", "")),
            "name": material.name.zh_Hans if not state.get("type") else _name(catalog, state),
        }
        grant = UseGrant(
            kind="application",
            token_hash=token_hash(f"application:{application.public_id}:{material.key}"),
            subject_kind=kind,
            subject_id=subject_id,
            granted_by_id=application.operator_id,
            org_name=department.name.zh_Hans,
            org_uscc=department.uscc,
            reason=reason,
            licenses=[license],
            application_id=application.id,
            created_at=clock.now(),
            valid_until=clock.now() + KEEP,
        )
        given.append((grant, license, f"{department.name.zh_Hans}（{department.uscc}）"))
    if not given:
        return 0
    db.add_all([grant for grant, _, _ in given])
    await db.flush()  # one INSERT for every grant: the log entries need their ids
    for grant, license, who in given:
        usage.record(
            db,
            subject_kind=grant.subject_kind,
            subject_id=grant.subject_id,
            license_id=license["id"],
            license_name=license["name"],
            action="material",
            who=who,
            reason=reason,
            grant_id=grant.id,
        )
    return len(given)


def _name(catalog: Catalog, state: dict[str, Any]) -> str:
    kind = catalog.license_types.get(str(state.get("type")))
    return kind.name.zh_Hans if kind else str(state.get("type"))
