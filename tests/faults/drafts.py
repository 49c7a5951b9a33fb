"""A supply of drafts ready to submit: one real draft filled through the pages, copied in
the database (with its uploads) as many times as the load will submit."""

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


async def copy_drafts(
    sessionmaker: async_sessionmaker[AsyncSession], public_id: str, count: int
) -> list[str]:
    """``count`` unsubmitted copies of draft ``public_id``; returns their public ids."""
    async with sessionmaker() as db:
        source = await db.scalar(select(Draft).where(Draft.public_id == public_id))
        assert source is not None, public_id
        uploads = list(
            (await db.execute(select(Upload).where(Upload.draft_id == source.id))).scalars()
        )
        made = []
        for _ in range(count):
            copy = Draft(
                **{c: getattr(source, c) for c in DRAFT_COLUMNS},
                public_id=new_public_id(),
                submitted_at=None,
            )
            db.add(copy)
            await db.flush()
            for upload in uploads:
                db.add(
                    Upload(
                        **{c: getattr(upload, c) for c in UPLOAD_COLUMNS},
                        public_id=new_public_id(),
                        draft_id=copy.id,
                    )
                )
            made.append(copy.public_id)
        await db.commit()
    return made
