"""The wallet's rules: list each wallet's licenses from the library with their state
(valid, expiring within 30 days, expired, revoked), find one license for an actor (404 for
anything not in their wallets), and what a verification may disclose."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from integrations.licenses import (
    License,
    LicenseLibrary,
    LicenseLibraryError,
    LicenseSummary,
    check_identifier,
)
from portal import clock
from portal.catalog.loader import Catalog
from portal.forms import divisions
from portal.settings import Settings
from portal.wallet.access import Owner

log = logging.getLogger(__name__)

EXPIRING_DAYS = 30
REMINDER_DAYS = (30, 7)
# What a holder may disclose to whoever scans the code; the rest is never shown there.
DISCLOSABLE = (
    "name",
    "number",
    "holder_name",
    "holder_code",
    "issuer",
    "issued_on",
    "validity",
)
DEFAULT_DISCLOSED = ("name", "holder_name", "validity", "issuer")


@dataclass(frozen=True)
class Entry:
    license: LicenseSummary
    state: str  # valid | expiring | expired | revoked
    days_left: int | None
    identifier_ok: bool


@dataclass(frozen=True)
class Wallet:
    owner: Owner
    entries: tuple[Entry, ...]
    unavailable: bool = False  # the library could not be read


def library(settings: Settings) -> LicenseLibrary:
    return LicenseLibrary(settings.licenses_api_url, settings.integrations_api_key)


def today() -> date:
    """Licenses are valid through their last day, China time."""
    return clock.china(clock.now()).date()


def state_of(status: str, valid_until: date | None, day: date) -> tuple[str, int | None]:
    if status != "valid":
        return "revoked", None
    if valid_until is None:
        return "valid", None
    left = (valid_until - day).days
    if left < 0:
        return "expired", left
    return ("expiring" if left <= EXPIRING_DAYS else "valid"), left


def entry(summary: LicenseSummary, day: date) -> Entry:
    state, left = state_of(summary.status, summary.valid_until, day)
    return Entry(summary, state, left, check_identifier(summary.identifier))


async def wallet(lib: LicenseLibrary, owner: Owner, day: date) -> Wallet:
    try:
        found = await lib.list_for_holder(owner.code, owner.code_type)
    except LicenseLibraryError:
        log.exception("e-license library unavailable for a wallet")
        return Wallet(owner, (), unavailable=True)
    return Wallet(owner, tuple(entry(summary, day) for summary in reversed(found)))


async def wallets(lib: LicenseLibrary, owners: Sequence[Owner], day: date) -> list[Wallet]:
    return list(await asyncio.gather(*(wallet(lib, owner, day) for owner in owners)))


@dataclass(frozen=True)
class Found:
    owner: Owner
    license: License
    entry: Entry


async def find(
    lib: LicenseLibrary, owners: Sequence[Owner], license_id: str, day: date
) -> Found | None:
    """The license if it is in one of these wallets, else None (never another person's)."""
    for owner in owners:
        summaries = await lib.list_for_holder(owner.code, owner.code_type)
        summary = next((s for s in summaries if s.id == license_id), None)
        if summary is not None:
            return Found(owner, await lib.get(license_id), entry(summary, day))
    return None


def jurisdiction_name(code: str) -> str:
    """``410700`` → 河南省新乡市 (GB/T 2260); the code itself when it is not known."""
    if len(code) != 6 or not code.isdigit():
        return code
    county = "" if code.endswith("00") else code
    city = "" if code.endswith("0000") else code[:4]
    return divisions.full_name(code[:2], city, county) or code


def chosen_fields(raw: Sequence[str] | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_DISCLOSED
    return tuple(name for name in DISCLOSABLE if name in raw)


def renewals(catalog: Catalog) -> dict[str, str]:
    """For each license type, the one-thing whose result issues it (renews it)."""
    found: dict[str, str] = {}
    for thing in catalog.things.values():
        for item in thing.items:
            kind = item.result.license_type
            if kind and kind not in found:
                found[kind] = thing.code
    return found
