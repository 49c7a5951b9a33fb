"""Copies of a real draft, written straight to the database with its upload rows (the same
stored files): a supply of drafts ready to submit, for the fault tests and the relay
benchmark. Imports no test fixture, so ``bench/`` can use it too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.applications.models import Draft, Upload
from portal.applications.services import new_public_id

DRAFT_COLUMNS = (
    *("thing_code", "subject_kind", "subject_id", "operator_id", "answers", "values"),
    *("prefilled", "materials", "created_at", "updated_at", "expires_at"),
)
UPLOAD_COLUMNS = (
    *("owner_id", "material_key", "stored_name", "content_type", "size", "sha256"),
    *("original_name", "created_at"),
)
BATCH = 500  # copies per transaction: thousands of rows stay a few commits


async def copy_drafts(
    sessionmaker: async_sessionmaker[AsyncSession], public_id: str, count: int
) -> list[str]:
    """``count`` unsubmitted copies of draft ``public_id`` (answers, values, prefilled,
    materials and uploads); returns their public ids, in the order made."""
    made: list[str] = []
    async with sessionmaker() as db:
        source = await db.scalar(select(Draft).where(Draft.public_id == public_id))
        assert source is not None, f"no draft {public_id}"
        rows = await db.execute(select(Upload).where(Upload.draft_id == source.id))
        uploads = list(rows.scalars())
        # Every caller submits the copies: a draft without its files would only be refused.
        assert uploads, "the draft has no upload"
        for start in range(0, count, BATCH):
            drafts = [
                Draft(
                    **{c: getattr(source, c) for c in DRAFT_COLUMNS},
                    public_id=new_public_id(),
                    submitted_at=None,
                )
                for _ in range(min(BATCH, count - start))
            ]
            db.add_all(drafts)
            await db.flush()
            for draft in drafts:
                db.add_all(
                    Upload(
                        **{c: getattr(upload, c) for c in UPLOAD_COLUMNS},
                        public_id=new_public_id(),
                        draft_id=draft.id,
                    )
                    for upload in uploads
                )
                made.append(draft.public_id)
            await db.commit()
    return made
