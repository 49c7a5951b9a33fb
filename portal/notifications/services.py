"""Who is told what, on which channel, when a platform event is applied.

The person told is the one who applied (the operator): for an enterprise, the legal
representative or agent who sent it. Text messages go to the contact mobile of the
application, else to the phone the identity provider gave; WeChat subscribe messages go to
the person's bound openid. Each message is logged and queued in the caller's transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from auth.models import Person, WeChatBinding
from auth.services import PHONE_PURPOSE
from portal import clock
from portal.applications.models import Application
from portal.applications.readiness import MOBILE_FIELDS
from portal.notifications.models import Notification, NotificationPreference
from portal.relay import outbox

SUBSCRIBE_TEMPLATE = "yjs-progress"  # the mini-program's subscribe template for progress
NOTIFICATIONS = cast(Table, Notification.__table__)  # a plain table: no ORM bulk path
PHRASES = {  # 5 characters at most: WeChat's "phrase" data type
    "YJS_RECEIVED": "已收件",
    "YJS_ACCEPTED": "已受理",
    "YJS_SUPPLEMENT": "待补正",
    "YJS_RESULT": "已出结果",
    "YJS_DELIVERED": "已送达",
    "YJS_RATE": "待评价",
    "YJS_RECTIFIED": "已整改",
}


@dataclass(frozen=True)
class Message:
    template: str
    params: dict[str, str]


def message_for(
    kind: str, data: Mapping[str, Any], thing_name: str, item_names: Mapping[str, str]
) -> Message | None:
    """The text for an event, or None when this event is not one people are told about."""
    item = _short(item_names.get(str(data.get("item_key")), str(data.get("item_key", ""))))
    if kind == "application.received":
        receipt = str(data.get("receipt_number") or "")
        return Message("YJS_RECEIVED", {"thing": _short(thing_name), "receipt": receipt})
    if kind == "application.concluded":  # the one invitation to rate (好差评)
        return Message("YJS_RATE", {"thing": _short(thing_name)})
    if kind == "application.supplement_requested":
        due = ((data.get("notice") or {}).get("deadline") or {}).get("due_at") or ""
        return Message("YJS_SUPPLEMENT", {"due": str(due)[:10] or "-"})
    if kind == "item.accepted":
        return Message("YJS_ACCEPTED", {"item": item})
    if kind in ("item.result_issued", "item.refused", "item.not_accepted"):
        return Message("YJS_RESULT", {"item": item})
    if kind == "item.delivered":
        delivery = data.get("delivery") or {}
        detail = delivery.get("tracking_number") or delivery.get("method") or "-"
        return Message("YJS_DELIVERED", {"item": item, "detail": _short(str(detail))})
    return None


async def preferences(db: AsyncSession, person_id: int) -> NotificationPreference:
    found = await db.get(NotificationPreference, person_id)
    if found is None:
        return NotificationPreference(person_id=person_id, sms=True, wechat=True)
    return found


async def set_preferences(db: AsyncSession, person_id: int, *, sms: bool, wechat: bool) -> None:
    found = await db.get(NotificationPreference, person_id)
    if found is None:
        found = NotificationPreference(person_id=person_id)
        db.add(found)
    found.sms, found.wechat, found.updated_at = sms, wechat, clock.now()


async def told(db: AsyncSession, application_id: int, event: str) -> bool:
    """Whether the person was sent a message about ``event`` of this application."""
    found = await db.scalar(
        select(Notification.id)
        .where(Notification.application_id == application_id, Notification.event == event)
        .limit(1)
    )
    return found is not None


async def plan(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    application: Application,
    message: Message,
    event: str,
    link: str,
) -> list[int]:
    """Logs and queues the message on each channel the person chose; returns the
    notifications' ids. The person, their choices and a bound openid in one ``SELECT``."""
    found = (
        await db.execute(
            select(
                Person.id,
                Person.phone_encrypted,
                NotificationPreference.sms,
                NotificationPreference.wechat,
                WeChatBinding.openid,
            )
            .outerjoin(NotificationPreference, NotificationPreference.person_id == Person.id)
            .outerjoin(WeChatBinding, WeChatBinding.person_id == Person.id)
            .where(Person.id == application.operator_id)
            .limit(1)
        )
    ).first()
    if found is None:
        return []
    person_id, phone, sms, wechat, openid = found
    queued = []
    mobile = _mobile(application, phone, cipher)
    if sms is not False and mobile:  # no preference row: both channels on
        envelope = {"mobile": mobile, "template": message.template, "params": message.params}
        queued.append(
            await _queue(db, cipher, application, person_id, "sms", event, message, envelope)
        )
    if wechat is not False and openid and message.template in PHRASES:
        data = {
            "thing1": _short(message.params.get("thing") or message.params.get("item") or "一件事"),
            "phrase2": PHRASES[message.template],
            "time3": clock.china(clock.now()).strftime("%Y-%m-%d %H:%M"),
        }
        envelope = {"openid": openid, "template_id": SUBSCRIBE_TEMPLATE, "data": data, "page": link}
        queued.append(
            await _queue(db, cipher, application, person_id, "wechat", event, message, envelope)
        )
    return queued


async def _queue(
    db: AsyncSession,
    cipher: PersonalDataCipher,
    application: Application,
    person_id: int,
    channel: str,
    event: str,
    message: Message,
    envelope: dict[str, Any],
) -> int:
    """The log row by one ``INSERT … RETURNING`` (no flush of the session), then its outbox row."""
    notification_id = await db.scalar(
        insert(NOTIFICATIONS)
        .values(
            application_id=application.id,
            person_id=person_id,
            channel=channel,
            event=event,
            template=message.template,
            params=message.params,
            state="queued",
            created_at=clock.now(),
        )
        .returning(NOTIFICATIONS.c.id)
    )
    assert notification_id is not None
    key = f"ntf-{notification_id}-{secrets.token_hex(6)}"
    envelope = {**envelope, "notification_id": notification_id}
    outbox.enqueue(db, cipher, f"notify.{channel}", key, envelope, application.id)
    return int(notification_id)


def _mobile(
    application: Application, phone_encrypted: bytes | None, cipher: PersonalDataCipher
) -> str | None:
    for key in MOBILE_FIELDS:
        value = application.values.get(key)
        if isinstance(value, str) and value:
            return value
    return cipher.decrypt(phone_encrypted, PHONE_PURPOSE) if phone_encrypted else None


def _short(text: str, limit: int = 20) -> str:
    """Template variables are short (35 characters for SMS, 20 for WeChat ``thing``)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
