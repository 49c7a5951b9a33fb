"""A webhook storm under load: the platform delivers every event twice and out of order,
and each is sent nine more times at random moments (10× the normal rate), all signed for
real. Every event is applied exactly once; states follow the sequence rule, not arrival."""

from __future__ import annotations

import asyncio
import time

from portal import clock
from tests.draft_copies import copy_drafts
from tests.faults.ledger import exactly_once, settle
from tests.faults.load import Load
from tests.faults.rig import citizen, report, scale, webhook_outcomes
from tests.faults.storm import Storm
from tests.relay.live import Live


def test_a_webhook_storm_under_load_applies_every_event_once(live: Live) -> None:
    size, since = scale(), clock.now()
    person = citizen(live.url)
    drafts = asyncio.run(copy_drafts(live.sessionmaker, person.draft, size.submissions))
    live.control("webhooks", {"shuffle": True, "duplicate_rate": 1.0})
    client_id = live.settings.intake_client_id
    with (
        Load(live.url, person.cookies, person.csrf, drafts, size.submitters, size.readers) as load,
        Storm(live.sandbox) as storm,
    ):
        assert load.wait_submitted(size.settle_seconds)
        settled = settle(
            live.sessionmaker, live.sandbox, client_id, drafts, since, size.settle_seconds
        )
        time.sleep(1.0)  # the last redeliveries
    started = time.monotonic()
    settled = settle(live.sessionmaker, live.sandbox, client_id, drafts, since, size.settle_seconds)

    exactly_once(settled, load.accepted)
    assert load.failures() == [], load.failures()[:5]
    assert set(storm.answers) == {204}, storm.answers
    outcomes = webhook_outcomes(live.url)
    events = sum(settled.sandbox.events.values())
    assert storm.sent >= events * 2, "the storm was not a storm"
    assert outcomes.get("duplicate", 0) >= settled.sandbox.duplicates_sent
    report(
        "webhook_storm",
        {
            "submissions": len(settled.portal.applications),
            "events": events,
            "webhook_attempts_failed": settled.sandbox.failed_deliveries,
            "redelivered_by_storm": storm.sent,
            "duplicates_by_platform": settled.sandbox.duplicates_sent,
            "webhook_outcomes": outcomes,
            "seconds_to_settle_after_storm": round(time.monotonic() - started, 1),
            "responses": load.counts(),
        },
    )
