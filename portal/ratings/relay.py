"""The relay's handler for ratings: ``intake.rate`` (a rating) and ``intake.rate_fix`` (the
citizen's rating of a rectification) go to the intake API like any write, under their own
Idempotency-Key; the answer is the platform's rating, applied by the sequence rule."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.intake.client import Accepted, IntakeApi, Outcome, Permanent
from portal.applications.package import canonical
from portal.ratings import followup
from portal.ratings.models import Rating
from portal.ratings.services import FIX_TOPIC, RATE_TOPIC
from portal.relay.outbox import Claimed

TOPICS = (RATE_TOPIC, FIX_TOPIC)


class RatingHandler:
    target = "intake"  # the same system: one circuit breaker with the other intake writes

    def __init__(self, api: IntakeApi) -> None:
        self.api = api

    async def deliver(self, message: Claimed) -> Outcome:
        envelope = message.envelope
        return await self.api.write(envelope["path"], canonical(envelope["body"]), message.key)

    async def record(self, db: AsyncSession, message: Claimed, outcome: Outcome) -> None:
        public_id = str(message.envelope["rating_id"])
        rating = await db.scalar(
            select(Rating).where(Rating.public_id == public_id).with_for_update()
        )
        if rating is None:
            return
        if isinstance(outcome, Accepted):
            await followup.take(db, rating, outcome.application)
            if message.topic == RATE_TOPIC:
                rating.relay_status, rating.relay_error = "relayed", None
        elif isinstance(outcome, Permanent):
            if message.topic == RATE_TOPIC:
                rating.relay_status, rating.relay_error = "failed", outcome.reason
            else:
                rating.fix_level = rating.fix_rated_at = None  # the person may try again
