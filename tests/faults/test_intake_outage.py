"""The intake platform down (every call and token request 503) while citizens submit and
read their progress, then back: nothing lost, nothing doubled, the outbox drains."""

from __future__ import annotations

import asyncio
import time

from portal import clock
from tests.draft_copies import copy_drafts
from tests.faults.ledger import exactly_once, settle
from tests.faults.load import Load
from tests.faults.rig import citizen, report, scale, webhook_outcomes
from tests.relay.live import Live


def test_an_intake_outage_under_load_loses_and_doubles_nothing(live: Live) -> None:
    size, since = scale(), clock.now()
    person = citizen(live.url)
    drafts = asyncio.run(copy_drafts(live.sessionmaker, person.draft, size.submissions))
    with Load(live.url, person.cookies, person.csrf, drafts, size.submitters, size.readers) as load:
        time.sleep(1.0)  # under way before the fault
        live.control("faults", {"outage": True})
        time.sleep(size.fault_seconds)
        during = len(load.accepted)
        refused = live.stats()["requests"].get("503", 0)
        live.control("faults", {"outage": False})
        recovered = time.monotonic()
        assert load.wait_submitted(size.settle_seconds)
    client_id = live.settings.intake_client_id
    settled = settle(live.sessionmaker, live.sandbox, client_id, drafts, since, size.settle_seconds)
    drained = time.monotonic() - recovered

    assert refused > 0, "the outage refused nothing: it came too late"
    assert during > 0, "nobody could submit while the platform was down"
    exactly_once(settled, load.accepted)
    assert load.failures() == [], load.failures()[:5]
    outcomes = webhook_outcomes(live.url)
    report(
        "intake_outage",
        {
            "submissions": len(settled.portal.applications),
            "accepted_during_outage": during,
            "platform_503": refused,
            "events": sum(settled.sandbox.events.values()),
            "webhook_attempts_failed": settled.sandbox.failed_deliveries,
            "webhook_outcomes": outcomes,
            "seconds_to_drain_after_recovery": round(drained, 1),
            "responses": load.counts(),
        },
    )
