"""What both sides hold once a fault is over, and the exactly-once rules between them:

- every application the portal holds for the load's drafts is whole (items, one outbox
  row) and relayed; the sandbox stored exactly one idempotency key and one application for
  each, and no other;
- every event the sandbox sent for them is in the portal's timeline exactly once (by
  item, kind and sequence), and the portal's states and sequences equal the sandbox's;
- the outbox is empty.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from integrations.sandbox.intake_models import APPLICATION_TERMINAL
from integrations.sandbox.intake_store import IntakeStore
from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    OutboxMessage,
)
from tests.integrations.helpers import mounted

log = logging.getLogger(__name__)
EventKey = tuple[str, str, str | None, int | None]  # application, kind, item, sequence


def store_of(sandbox: Starlette) -> IntakeStore:
    store: IntakeStore = mounted(sandbox, "/intake").state.store
    return store


@dataclass(frozen=True)
class PortalSide:
    applications: dict[str, str]  # public id → relay status
    whole: dict[str, bool]  # public id → has items and exactly one intake.submit row
    items: dict[tuple[str, str], tuple[str, int]]  # (application, item) → (status, sequence)
    sequences: dict[str, int]
    events: Counter[EventKey]
    pending: int  # outbox rows not sent yet (all topics)
    waiting: list[tuple[str, int, str | None]]  # some of them: topic, attempts, last error
    failed: int


async def portal_side(
    sessionmaker: async_sessionmaker[AsyncSession], drafts: list[str], since: datetime
) -> PortalSide:
    """The load's applications (by their drafts); outbox rows counted are theirs and those
    written since ``since`` (notifications), not what other tests left behind."""
    async with sessionmaker() as db:
        rows = (
            await db.execute(
                select(
                    Application.id,
                    Application.public_id,
                    Application.relay_status,
                    Application.sequence,
                ).where(Application.draft_public_id.in_(drafts))
            )
        ).all()
        ids = {row.id: row.public_id for row in rows}
        submits = Counter(
            (
                await db.execute(
                    select(OutboxMessage.application_id).where(
                        OutboxMessage.application_id.in_(ids),
                        OutboxMessage.topic == "intake.submit",
                    )
                )
            ).scalars()
        )
        item_rows = (
            await db.execute(
                select(
                    ApplicationItem.application_id,
                    ApplicationItem.item_key,
                    ApplicationItem.status,
                    ApplicationItem.sequence,
                ).where(ApplicationItem.application_id.in_(ids))
            )
        ).all()
        event_rows = (
            await db.execute(
                select(
                    ApplicationEvent.application_id,
                    ApplicationEvent.kind,
                    ApplicationEvent.item_key,
                    ApplicationEvent.sequence,
                ).where(
                    ApplicationEvent.application_id.in_(ids),
                    ApplicationEvent.kind.not_like("portal.%"),
                )
            )
        ).all()
        ours = or_(OutboxMessage.application_id.in_(ids), OutboxMessage.created_at >= since)
        states = {
            state: n
            for state, n in await db.execute(
                select(OutboxMessage.state, func.count()).where(ours).group_by(OutboxMessage.state)
            )
        }
        waiting = [
            (row.topic, row.attempts, row.last_error)
            for row in await db.execute(
                select(OutboxMessage.topic, OutboxMessage.attempts, OutboxMessage.last_error)
                .where(ours, OutboxMessage.state == "pending")
                .limit(5)
            )
        ]
    with_items = {row.application_id for row in item_rows}
    return PortalSide(
        applications={row.public_id: row.relay_status for row in rows},
        whole={ids[i]: i in with_items and submits[i] == 1 for i in ids},
        items={(ids[r.application_id], r.item_key): (r.status, r.sequence) for r in item_rows},
        sequences={row.public_id: row.sequence for row in rows},
        events=Counter((ids[r.application_id], r.kind, r.item_key, r.sequence) for r in event_rows),
        pending=int(states.get("pending", 0)),
        waiting=waiting,
        failed=int(states.get("failed", 0)),
    )


@dataclass(frozen=True)
class SandboxSide:
    keys: Counter[str]  # idempotency keys with a stored response, by key
    applications: set[str]
    items: dict[tuple[str, str], tuple[str, int]]
    sequences: dict[str, int]
    events: Counter[EventKey]
    undelivered: int  # webhook messages not yet answered with a 2xx
    unfinished: int  # applications not concluded yet (the simulation still moves them)
    states: Counter[str]  # the applications' states at the sandbox
    refused: int  # 422 answers: a key reused with another body, an application sent twice
    duplicates_sent: int
    failed_deliveries: int  # webhook attempts the portal did not answer with a 2xx


def sandbox_side(sandbox: Starlette, client_id: str, held: set[str]) -> SandboxSide:
    """What the sandbox holds and sent for the applications ``held`` by the portal, and its
    idempotency keys for them; plus what it still has to do."""
    store = store_of(sandbox)
    records = [
        r for r in list(store.applications.items()) if r[0][0] == client_id and r[0][1] in held
    ]
    events: Counter[EventKey] = Counter()
    undelivered = 0
    for message in list(store.outbox.messages):
        if message.client.client_id != client_id:
            continue
        undelivered += not message.delivered
        data = message.data
        if message.type.startswith(("application.", "item.")) and data["application_id"] in held:
            item = data.get("item_key")
            events[(str(data["application_id"]), message.type, item, data.get("sequence"))] += 1
    return SandboxSide(
        keys=Counter(
            key
            for (client, key), record in list(store.keys.items())
            if client == client_id and key in held and record.response is not None
        ),
        applications={application_id for (_, application_id), _ in records},
        items={
            (application_id, item.key): (item.state, item.sequence)
            for (_, application_id), record in records
            for item in record.items.values()
        },
        sequences={application_id: record.sequence for (_, application_id), record in records},
        events=events,
        undelivered=undelivered,
        states=Counter(record.state for _, record in records),
        unfinished=sum(1 for _, record in records if record.state not in APPLICATION_TERMINAL),
        refused=store.requests.get(422, 0),
        duplicates_sent=store.outbox.duplicates,
        failed_deliveries=store.outbox.failed_attempts,
    )


@dataclass(frozen=True)
class Settled:
    portal: PortalSide
    sandbox: SandboxSide
    seconds: float  # from the call until both sides were quiet


def settle(
    sessionmaker: async_sessionmaker[AsyncSession],
    sandbox: Starlette,
    client_id: str,
    drafts: list[str],
    since: datetime,
    timeout: float,
) -> Settled:
    """Waits until the outbox is empty, every application is relayed and the sandbox has
    nothing left to do or send; returns both sides then (or at ``timeout``)."""
    started = time.monotonic()
    while True:
        portal = asyncio.run(portal_side(sessionmaker, drafts, since))
        platform = sandbox_side(sandbox, client_id, set(portal.applications))
        quiet = (
            portal.pending == 0
            and all(status == "relayed" for status in portal.applications.values())
            and platform.undelivered == 0
            and platform.unfinished == 0
        )
        log.info(
            "settling: outbox %d pending, relay %s, %d webhooks unsent, %d not concluded",
            portal.pending,
            dict(Counter(portal.applications.values())),
            platform.undelivered,
            platform.unfinished,
        )
        if quiet or time.monotonic() - started > timeout:
            return Settled(portal, platform, time.monotonic() - started)
        time.sleep(0.5)


def exactly_once(settled: Settled, accepted: dict[str, str]) -> None:
    """The rules of this module's docstring; ``accepted`` are the submits the load saw
    succeed (draft → application)."""
    portal, platform = settled.portal, settled.sandbox
    held = set(portal.applications)
    assert set(accepted.values()) <= held, "an accepted submission is not in the database"
    assert all(portal.whole.values()), [k for k, whole in portal.whole.items() if not whole]
    assert set(portal.applications.values()) == {"relayed"}, Counter(portal.applications.values())
    assert portal.pending == 0 and portal.failed == 0, (
        portal.pending,
        portal.failed,
        portal.waiting,
    )
    assert set(platform.keys) == held, (len(platform.keys), len(held))
    assert platform.applications == held, (len(platform.applications), len(held))
    assert platform.refused == 0, "the platform saw a key reused or an application twice"
    assert platform.undelivered == 0, f"{platform.undelivered} webhooks never delivered"
    assert platform.unfinished == 0, f"{platform.unfinished} not concluded: {platform.states}"
    assert portal.events == platform.events, _difference(portal.events, platform.events)
    assert max(portal.events.values()) == 1
    assert portal.items == platform.items
    assert portal.sequences == platform.sequences


def _difference(portal: Counter[EventKey], platform: Counter[EventKey]) -> str:
    extra, missing = portal - platform, platform - portal
    return (
        f"applied, not sent (or twice): {list(extra)[:5]}; sent, not applied: {list(missing)[:5]}"
    )
