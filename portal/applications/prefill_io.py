"""Gather what prefill needs from the outside (identity, profile, registry, e-licenses,
previous applications) for one actor; then portal.forms.prefill decides, purely."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from auth.actor import Actor
from auth.models import Person
from auth.services import ID_PURPOSE, PHONE_PURPOSE
from integrations.licenses import License, LicenseLibraryError, LicenseSummary
from integrations.registry import EnterpriseRegistry
from portal.applications.models import Application
from portal.catalog.schema import Item, Material, OneThing
from portal.forms.merged import merged_form
from portal.forms.prefill import (
    PrefillContext,
    Prefilled,
    identity_claims,
    license_types,
    prefill,
)
from portal.profile import services as profile
from portal.wallet.access import may_use_subject_licenses
from portal.web import appstate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LicenseChoice:
    """An e-license in the wallet that can replace a material."""

    id: str
    name: str
    number: str
    holder_name: str
    identifier: str = ""
    type: str = ""


def _registry(request: Request) -> EnterpriseRegistry:
    settings = appstate.settings(request)
    return EnterpriseRegistry(settings.registry_api_url, settings.integrations_api_key)


async def _holders(request: Request, db: AsyncSession, actor: Actor) -> list[tuple[str, str]]:
    """(holder code, code type) whose licenses this actor may use: the person's own, and the
    enterprise's when acting for one that lends them (see the wallet's access rules). Read
    with the handler's session: a second one held a second pool connection per request."""
    person = await db.get(Person, actor.person_id)
    lends = actor.subject.uscc is not None and await may_use_subject_licenses(db, actor)
    holders = []
    if person is not None and person.id_number_encrypted:
        holders.append(
            (appstate.cipher(request).decrypt(person.id_number_encrypted, ID_PURPOSE), "111")
        )
    if lends and actor.subject.uscc:
        holders.append((actor.subject.uscc, "001"))
    return holders


WALLET_KEY = "portal.wallet"  # the request scope's cache of the usable summaries


async def usable_summaries(
    request: Request, db: AsyncSession, actor: Actor
) -> list[LicenseSummary]:
    """The actor's usable licenses as the list call gives them (one call per holder, once per
    request); an unreachable library means none."""
    cached: list[LicenseSummary] | None = request.scope.get(WALLET_KEY)
    if cached is not None:
        return cached
    library = appstate.license_library(request)
    today = date.today()
    # Outside the ``try``: a database that cannot answer is not a library that cannot, and
    # must fail the request (503) rather than quietly take the person's licences away (the
    # load run had drafts go on without them, and the platform refused them).
    holders = await _holders(request, db, actor)
    found: dict[str, LicenseSummary] = {}
    try:
        for code, code_type in holders:
            for summary in await library.list_for_holder(code, code_type):  # type: ignore[arg-type]
                if summary.usable_on(today):
                    found.setdefault(summary.id, summary)
    except LicenseLibraryError:
        log.exception("e-license library unreachable; prefill and 免提交 without licenses")
        found = {}
    summaries = list(found.values())
    request.scope[WALLET_KEY] = summaries
    return summaries


async def wallet(
    request: Request, db: AsyncSession, actor: Actor, types: Collection[str]
) -> list[License]:
    """Full records of the first usable license of each of ``types`` (what prefill reads);
    an unreachable library means none."""
    if not types:
        return []
    chosen: dict[str, str] = {}
    for summary in await usable_summaries(request, db, actor):
        if summary.type in types:
            chosen.setdefault(summary.type, summary.id)
    library = appstate.license_library(request)
    try:
        # All at once: the callers hold a database connection meanwhile, and one call after
        # another held it long enough to empty the pool under load (docs/load.md).
        return list(await asyncio.gather(*(library.get(i) for i in chosen.values())))
    except LicenseLibraryError:
        log.exception("e-license library unreachable; prefill and 免提交 without licenses")
        return []


async def context_for(
    request: Request, db: AsyncSession, actor: Actor, types: Collection[str] = ()
) -> PrefillContext:
    """What prefill reads; of the e-licenses, only the full records of ``types``."""
    cipher = appstate.cipher(request)
    person = await db.get(Person, actor.person_id)
    assert person is not None
    id_number = (
        cipher.decrypt(person.id_number_encrypted, ID_PURPOSE)
        if person.id_number_encrypted
        else None
    )
    phone = (
        cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE) if person.phone_encrypted else None
    )
    context = PrefillContext(identity=identity_claims(person.name, id_number, phone))
    consented = profile.active_reuse_consent(await profile.consents(db, person.id)) is not None
    if consented:
        context.profile = {}
        for entry in await profile.entries(db, person.id):
            context.profile.setdefault(entry.kind, entry.value)
        previous = await db.scalar(
            select(Application)
            .where(
                Application.subject_kind == actor.subject.kind,
                Application.subject_id == actor.subject.id,
            )
            .order_by(Application.submitted_at.desc())
            .limit(1)
        )
        context.previous = dict(previous.values) if previous else None
    if actor.subject.uscc:
        try:
            record = await _registry(request).lookup(actor.subject.uscc)
        except Exception:
            log.exception("enterprise registry unreachable")
            record = None
        if record is not None:
            context.enterprise = {k: v for k, v in vars(record).items()}
    for license_ in await wallet(request, db, actor, types):
        context.licenses.setdefault(license_.type, dict(license_.data))
    return context


async def prefill_for(
    request: Request, db: AsyncSession, actor: Actor, thing: OneThing, items: Sequence[Item]
) -> dict[str, Prefilled]:
    fields = merged_form(thing, items).fields
    return prefill(fields, await context_for(request, db, actor, license_types(fields)))


async def licenses_for(
    request: Request, db: AsyncSession, actor: Actor, materials: Sequence[Material]
) -> dict[str, list[LicenseChoice]]:
    """For each material an e-license can replace, the licenses in the wallet that do."""
    wanted = {m.license_type for m in materials if m.license_type}
    if not wanted:
        return {}
    by_type: dict[str, list[LicenseChoice]] = {}
    for summary in await usable_summaries(request, db, actor):
        if summary.type in wanted:
            by_type.setdefault(summary.type, []).append(
                LicenseChoice(
                    summary.id,
                    summary.name,
                    summary.number,
                    summary.holder.name,
                    summary.identifier,
                    summary.type,
                )
            )
    return {m.key: by_type.get(m.license_type or "", []) for m in materials if m.license_type}
