"""Finding an application by its number and the last 6 characters of the applicant's ID
number (or USCC), for someone not signed in — with a limit on guesses per client."""

from __future__ import annotations

import hmac
import time
from collections import deque

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from portal.applications.models import Application
from portal.applications.services import TAIL_PURPOSE


class Limiter:
    """At most ``limit`` tries per client in ``window`` seconds (per process: enough to make
    guessing 6 characters hopeless; a shared limiter belongs in front, at the proxy)."""

    def __init__(self, limit: int = 10, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._tries: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        tries = self._tries.setdefault(client, deque())
        while tries and tries[0] < now - self.window:
            tries.popleft()
        if len(tries) >= self.limit:
            return False
        tries.append(now)
        if len(self._tries) > 100_000:  # forget idle clients rather than grow without end
            self._tries = {k: v for k, v in self._tries.items() if v and v[-1] > now - self.window}
        return True


async def find(
    db: AsyncSession, cipher: PersonalDataCipher, number: str, tail: str
) -> Application | None:
    """By the platform's receipt number or the portal's own YJS number."""
    rows = await db.execute(
        select(Application)
        .where(or_(Application.receipt_number == number, Application.submission_number == number))
        .limit(5)
    )
    expected = cipher.lookup_hash(tail, TAIL_PURPOSE)
    for application in rows.scalars():
        if application.applicant_tail_hash and hmac.compare_digest(
            expected, application.applicant_tail_hash
        ):
            return application
    return None
