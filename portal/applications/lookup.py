"""Finding an application by its number and the last 6 characters of the applicant's ID
number (or USCC), for someone not signed in (guesses per client are limited by the ``lookup``
rate limit, shared by every process: portal/web/ratelimit.py)."""

from __future__ import annotations

import hmac

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from auth.crypto import PersonalDataCipher
from portal.applications.models import Application
from portal.applications.services import TAIL_PURPOSE


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
