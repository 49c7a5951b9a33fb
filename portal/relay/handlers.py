"""What each outbox topic means: where it goes and what its answer changes.

``intake.submit``/``intake.supplement``/``intake.withdraw`` go to the platform's intake API
(the answer is the application, applied by the sequence rule); ``notify.sms`` and
``notify.wechat`` go to the SMS gateway and WeChat (the answer marks the notification log).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from integrations.intake.client import Accepted, IntakeApi, Outcome, Permanent, Transient
from integrations.sms import SmsError, SmsGateway
from integrations.wechat import WeChatGateway
from integrations.wechat.client import WeChatError
from portal import clock
from portal.applications import progress
from portal.applications.models import Application, ApplicationItem
from portal.applications.package import canonical
from portal.notifications.models import Notification
from portal.relay.outbox import Claimed

INTAKE_TOPICS = ("intake.submit", "intake.supplement", "intake.withdraw")
# WeChat answers meaning "try later": system busy, token trouble; the rest are final.
WECHAT_TRANSIENT = frozenset({-1, 40001, 42001, 45009})
# What recording an answer touches: the form's sealed values, answers and materials are
# neither read nor changed, so they are not loaded (nor decrypted) for every answer.
RECORDED_COLUMNS = (
    *(Application.id, Application.status, Application.sequence, Application.platform),
    *(Application.receipt_number, Application.relay_status, Application.relay_error),
    Application.updated_at,
)
PREFETCHED = "relay.intake.prefetched"  # the session's ``info`` key: application id → state


async def locked_application(db: AsyncSession, application_id: int) -> Application | None:
    """The application row, locked on PostgreSQL so concurrent events apply one at a time."""
    return await db.scalar(
        select(Application).where(Application.id == application_id).with_for_update()
    )


class IntakeHandler:
    target = "intake"

    def __init__(self, api: IntakeApi) -> None:
        self.api = api

    async def deliver(self, message: Claimed) -> Outcome:
        envelope = message.envelope
        return await self.api.write(envelope["path"], canonical(envelope["body"]), message.key)

    async def prefetch(self, db: AsyncSession, messages: Sequence[Claimed]) -> None:
        """Locks and loads the batch's applications and their items in two statements
        (ordered by id, so two workers lock in the same order and cannot deadlock)."""
        ids = sorted({m.application_id for m in messages if m.application_id is not None})
        if not ids:
            return
        applications = await db.scalars(
            select(Application)
            .options(load_only(*RECORDED_COLUMNS))
            .where(Application.id.in_(ids))
            .order_by(Application.id)
            .with_for_update()
        )
        prefetched: dict[int, tuple[Application, dict[str, ApplicationItem]]] = {
            application.id: (application, {}) for application in applications
        }
        items = await db.scalars(
            select(ApplicationItem).where(ApplicationItem.application_id.in_(ids))
        )
        for item in items:
            prefetched[item.application_id][1][item.item_key] = item
        db.info[PREFETCHED] = prefetched

    async def record(self, db: AsyncSession, message: Claimed, outcome: Outcome) -> None:
        if message.application_id is None:
            return
        found = db.info.get(PREFETCHED, {}).get(message.application_id)
        if found is not None:
            application, items = found
        else:
            application = await locked_application(db, message.application_id)
            if application is None:
                return
            items = await progress.items_of(db, application)
        action = message.topic.removeprefix("intake.")
        if isinstance(outcome, Accepted):
            progress.apply_snapshot_to(application, items, outcome.application)
            if action == "submit":
                application.relay_status, application.relay_error = "relayed", None
            progress.record(db, application, f"portal.{action}_relayed")
        elif isinstance(outcome, Permanent):
            if action == "submit":
                application.relay_status, application.relay_error = "failed", outcome.reason
            progress.record(
                db, application, f"portal.{action}_failed", data={"reason": outcome.reason}
            )


class SmsHandler:
    target = "sms"

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    async def deliver(self, message: Claimed) -> Outcome:
        envelope = message.envelope
        try:
            receipt = await self.gateway.send(
                envelope["mobile"], envelope["template"], envelope["params"], out_id=message.key
            )
        except SmsError as error:
            if error.permanent:
                return Permanent(0, f"{error.code}: {error.message}")
            return Transient(f"{error.code}: {error.message}")
        return Accepted(200, {"message_id": receipt.message_id})

    async def record(self, db: AsyncSession, message: Claimed, outcome: Outcome) -> None:
        await _mark_notification(db, message.envelope, outcome)


class WeChatHandler:
    target = "wechat"

    def __init__(self, gateway: WeChatGateway) -> None:
        self.gateway = gateway

    async def deliver(self, message: Claimed) -> Outcome:
        envelope = message.envelope
        try:
            await self.gateway.send_subscribe_message(
                envelope["openid"], envelope["template_id"], envelope["data"], envelope["page"]
            )
        except WeChatError as error:
            if error.errcode is None or error.errcode in WECHAT_TRANSIENT:
                return Transient(str(error))
            return Permanent(0, str(error))
        return Accepted(200, {})

    async def record(self, db: AsyncSession, message: Claimed, outcome: Outcome) -> None:
        await _mark_notification(db, message.envelope, outcome)


async def _mark_notification(db: AsyncSession, envelope: dict[str, Any], outcome: Outcome) -> None:
    sent = isinstance(outcome, Accepted)
    await db.execute(
        update(Notification)
        .where(Notification.id == envelope["notification_id"])
        .values(
            state="sent" if sent else "failed",
            sent_at=clock.now() if sent else None,
            error=None if sent else getattr(outcome, "reason", None),
        )
    )
