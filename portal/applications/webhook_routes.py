"""``POST /webhooks/intake``: the platform's signed status events (docs/intake-api.md §7).

Verified over the raw bytes (Standard Webhooks, several secrets during a rotation), a stale
timestamp refused, each ``webhook-id`` processed once, and the event applied by the sequence
rule in the same transaction that records the id — then people are told what changed.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.intake.webhooks import InvalidWebhook, MalformedWebhook, verify
from portal import clock
from portal.applications import progress
from portal.applications.models import Application, WebhookMessage
from portal.notifications import services as notifications
from portal.ratings import webhook as rating_webhook
from portal.web import appstate

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
SUMMARY_MEMBERS = (
    *("state", "receipt_number", "notice", "acceptance", "decision", "result"),
    *("delivery", "withdrawal", "closure", "deadline"),
)
TOLERANCE = 300
WEBHOOK_MESSAGES = cast(Table, WebhookMessage.__table__)  # a plain table: no ORM bulk path


def _answer(request: Request, outcome: str, status: int = 204, detail: str = "") -> Response:
    request.app.state.metrics.webhooks.labels(outcome).inc()
    if status == 204:
        return Response(status_code=204)
    return JSONResponse({"error": outcome, "detail": detail}, status_code=status)


async def intake_webhook(request: Request) -> Response:
    settings = appstate.settings(request)
    body = await request.body()
    if len(body) > MAX_BODY:
        return _answer(request, "malformed", 413, "body over 1 MiB")
    timestamp = request.headers.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TOLERANCE:
        return _answer(request, "stale_timestamp", 400, "timestamp missing or outside 5 minutes")
    try:
        envelope = verify(settings.intake_webhook_secrets, body, request.headers)
    except InvalidWebhook:
        return _answer(request, "bad_signature", 401, "no valid signature")
    except MalformedWebhook:
        return _answer(request, "malformed", 400, "the signed body is not JSON")
    if not _well_formed(envelope):
        return _answer(request, "malformed", 400, "not a webhook envelope")
    outcome = await _process(request, request.headers["webhook-id"], envelope)
    return _answer(request, outcome)


SEQUENCE_MAX = 2**31 - 1  # sequences are stored in INTEGER columns


def _well_formed(envelope: Any) -> bool:
    return (
        isinstance(envelope, dict)
        and isinstance(envelope.get("type"), str)
        and isinstance(envelope.get("data"), dict)
        and _sequences_fit(envelope["data"])
    )


def _sequences_fit(value: Any) -> bool:
    """Every ``sequence`` in the event (the application's, each item's, a rating's) is a
    whole number the database can hold; a platform bug must not become a 500."""
    if isinstance(value, list):
        return all(_sequences_fit(member) for member in value)
    if not isinstance(value, dict):
        return True
    sequence = value.get("sequence")
    if sequence is not None and not (
        isinstance(sequence, int)
        and not isinstance(sequence, bool)
        and 0 <= sequence <= SEQUENCE_MAX
    ):
        return False
    return all(_sequences_fit(member) for member in value.values())


async def _process(request: Request, webhook_id: str, envelope: dict[str, Any]) -> str:
    kind, data = envelope["type"], envelope["data"]
    async with appstate.database(request)() as db:
        if not await _first_time(db, webhook_id, kind):
            return "duplicate"
        if kind.startswith("rating."):  # the follow-up of a bad rating (好差评)
            outcome = await rating_webhook.receive(request, db, kind, data)
            try:
                await db.commit()
            except IntegrityError:
                return "duplicate"
            appstate.wake_relay(request)
            return outcome
        if not kind.startswith(("application.", "item.")):  # a type we do not know: nothing
            log.warning("webhook of an unknown type", extra={"type": kind})
            await db.commit()
            return "unknown"
        application = await db.scalar(
            select(Application)
            .where(Application.public_id == str(data.get("application_id")))
            .with_for_update()
        )
        if application is None:
            log.warning("webhook for an unknown application", extra={"type": kind})
            await db.commit()
            return "unknown"
        applied = await progress.apply_event(db, application, kind, data)
        progress.record(
            db,
            application,
            kind,
            item_key=data.get("item_key"),
            sequence=data.get("sequence"),
            occurred_at=progress.moment(data.get("occurred_at")),
            data=_summary(data),
        )
        if applied.anything or await _told_even_late(db, application, kind):
            await _notify(request, db, application, kind, data)
        try:
            await db.commit()
        except IntegrityError:  # the same message, processed at the same moment elsewhere
            return "duplicate"
    appstate.wake_relay(request)  # notifications may have been queued
    return "applied" if applied.anything else "stale"


async def _first_time(db: AsyncSession, webhook_id: str, kind: str) -> bool:
    """Records the message's id in this transaction; False when it is already recorded. A
    second delivery arriving while the first is being applied waits here for its commit."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    recorded = await db.execute(
        dialect.insert(WEBHOOK_MESSAGES)
        .values(webhook_id=webhook_id[:64], kind=kind[:48], received_at=clock.now())
        .on_conflict_do_nothing()
        .returning(WEBHOOK_MESSAGES.c.webhook_id)
    )
    return recorded.first() is not None


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    """What the timeline shows: the state, reasons, notice, result, delivery."""
    return {key: data[key] for key in SUMMARY_MEMBERS if data.get(key) is not None}


# News that no later message repeats: the receipt number people look their application up
# with. A later message can bring the state first (webhooks come in any order, and the relay
# reads the platform's answers too); the text still goes out, once.
TOLD_EVEN_LATE = frozenset({"application.received"})


async def _told_even_late(db: Any, application: Application, kind: str) -> bool:
    """A late (stale) message of a ``TOLD_EVEN_LATE`` kind nobody was told about yet."""
    return kind in TOLD_EVEN_LATE and not await notifications.told(db, application.id, kind)


async def _notify(
    request: Request, db: Any, application: Application, kind: str, data: dict[str, Any]
) -> None:
    thing = appstate.catalog(request).get(application.thing_code)
    if thing is None:
        return
    names = {item.key: item.name.zh_Hans for item in thing.items}
    message = notifications.message_for(kind, data, thing.name.zh_Hans, names)
    if message is None:
        return
    link = f"/applications/{application.public_id}"
    await notifications.plan(db, appstate.cipher(request), application, message, kind, link)


routes = [Route("/webhooks/intake", intake_webhook, methods=["POST"], name="intake_webhook")]
