"""Expiry reminders: a sweep, run by the reconciling relay process (portal/relay/runner.py),
that reads every wallet from the library and tells the holder once when a license has 30
days left and once at 7. A unique row per (person, license, threshold) is inserted in the
same transaction as the notification and its outbox row, so two processes sweeping at once,
or a restart mid-sweep, can never send a reminder twice."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from auth.crypto import PersonalDataCipher
from auth.models import Enterprise, EnterpriseRole, Person, WeChatBinding
from auth.services import ID_PURPOSE, PHONE_PURPOSE
from integrations.licenses import RESIDENT_ID, USCC, CodeType, LicenseLibrary, LicenseSummary
from portal import clock
from portal.notifications.models import Notification, NotificationPreference
from portal.relay import outbox
from portal.wallet.models import ExpiryReminder

log = logging.getLogger(__name__)

TEMPLATE = "YJS_LICENSE_EXPIRING"  # the SMS template: ${license} expires on ${date}
SUBSCRIBE_TEMPLATE = "yjs-progress"
PHRASE = "证照将到期"  # WeChat "phrase" data: 5 characters at most


def threshold(days_left: int) -> int | None:
    """Which reminder is due: 7 within a week, 30 within a month, none otherwise."""
    if 0 <= days_left <= 7:
        return 7
    if 7 < days_left <= 30:
        return 30
    return None


@dataclass(frozen=True)
class Due:
    person_id: int
    license: LicenseSummary
    days: int


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    library: LicenseLibrary,
    day: date,
    renewals: Mapping[str, str] | None = None,
) -> int:
    """Queue the reminders due on ``day``; returns how many were queued."""
    sent = 0
    for person_ids, code, code_type in await _wallets(sessionmaker, cipher):
        try:
            found = await library.list_for_holder(code, code_type)
        except Exception:
            log.exception("e-license library unavailable; reminders wait for the next sweep")
            return sent
        for summary in found:
            if summary.relation != "holder" or not summary.usable_on(day):
                continue
            if summary.valid_until is None:
                continue
            days = threshold((summary.valid_until - day).days)
            if days is None:
                continue
            for person_id in person_ids:
                if await _remind(sessionmaker, cipher, Due(person_id, summary, days), renewals):
                    sent += 1
    return sent


async def _wallets(
    sessionmaker: async_sessionmaker[AsyncSession], cipher: PersonalDataCipher
) -> list[tuple[list[int], str, CodeType]]:
    """(who is told, holder code, code type): each person, and each enterprise's legal
    representatives."""
    async with sessionmaker() as db:
        people = (
            await db.execute(
                select(Person.id, Person.id_number_encrypted).where(
                    Person.id_number_encrypted.is_not(None)
                )
            )
        ).all()
        roles = (
            await db.execute(
                select(Enterprise.uscc, EnterpriseRole.person_id).join(
                    EnterpriseRole, EnterpriseRole.enterprise_id == Enterprise.id
                )
            )
        ).all()
    wallets: list[tuple[list[int], str, CodeType]] = [
        ([person_id], cipher.decrypt(blob, ID_PURPOSE), RESIDENT_ID)
        for person_id, blob in people
        if blob is not None
    ]
    by_enterprise: dict[str, list[int]] = {}
    for uscc, person_id in roles:
        by_enterprise.setdefault(uscc, []).append(person_id)
    wallets += [(ids, uscc, USCC) for uscc, ids in by_enterprise.items()]
    return wallets


async def _remind(
    sessionmaker: async_sessionmaker[AsyncSession],
    cipher: PersonalDataCipher,
    due: Due,
    renewals: Mapping[str, str] | None,
) -> bool:
    license = due.license
    assert license.valid_until is not None
    async with sessionmaker() as db:
        db.add(
            ExpiryReminder(
                person_id=due.person_id,
                identifier=license.identifier,
                days=due.days,
                valid_until=license.valid_until,
                created_at=clock.now(),
            )
        )
        try:
            await db.flush()
        except IntegrityError:
            await db.rollback()  # already reminded, by this process or another
            return False
        renew = (renewals or {}).get(license.type)
        link = f"/things/{renew}" if renew else f"/wallet/licenses/{license.id}"
        params = {"license": license.name[:35], "date": license.valid_until.isoformat()}
        await _queue(db, cipher, due.person_id, params, link)
        await db.commit()
    return True


async def _queue(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    person_id: int,
    params: dict[str, str],
    link: str,
) -> None:
    person = await db.get(Person, person_id)
    if person is None:
        return
    chosen = await db.get(NotificationPreference, person_id)
    sms_on, wechat_on = (chosen.sms, chosen.wechat) if chosen else (True, True)
    mobile = (
        cipher.decrypt(person.phone_encrypted, PHONE_PURPOSE) if person.phone_encrypted else None
    )
    envelopes: list[tuple[str, dict[str, object]]] = []
    if sms_on and mobile:
        envelopes.append(("sms", {"mobile": mobile, "template": TEMPLATE, "params": params}))
    openid = await db.scalar(
        select(WeChatBinding.openid).where(WeChatBinding.person_id == person_id).limit(1)
    )
    if wechat_on and openid:
        data = {
            "thing1": params["license"][:20],
            "phrase2": PHRASE,
            "time3": params["date"],
        }
        envelopes.append(
            (
                "wechat",
                {"openid": openid, "template_id": SUBSCRIBE_TEMPLATE, "data": data, "page": link},
            )
        )
    for channel, envelope in envelopes:
        notification = Notification(
            application_id=None,
            person_id=person_id,
            channel=channel,
            event="wallet.license_expiring",
            template=TEMPLATE,
            params={**params, "link": link},
            state="queued",
            created_at=clock.now(),
        )
        db.add(notification)
        await db.flush()
        key = f"ntf-{notification.id}-{secrets.token_hex(6)}"
        outbox.enqueue(
            db, cipher, f"notify.{channel}", key, {**envelope, "notification_id": notification.id}
        )
