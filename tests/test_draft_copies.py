"""The draft copier shared by the fault tests and the relay benchmark: every copy is a draft
of its own, unsubmitted, with its own upload rows over the same stored file, and opens as
its owner's."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.applications.models import Draft, Upload
from tests import draft_copies
from tests.applications.formdata import photo, submit_page
from tests.applications.test_apply_flow import _to_materials


def test_copies_carry_the_draft_and_its_uploads(
    client: TestClient, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _to_materials(client)
    submit_page(
        client,
        f"{base}/materials",
        {"m.child_photo.mode": "upload", "action": "upload"},
        files={"m.child_photo.files": ("photo.jpg", photo(), "image/jpeg")},
    )
    source = base.rsplit("/", 1)[1]
    monkeypatch.setattr(draft_copies, "BATCH", 2)  # three copies cross a batch boundary

    made = client.portal.call(  # type: ignore[union-attr]
        lambda: draft_copies.copy_drafts(app.state.sessionmaker, source, 3)
    )

    async def rows() -> tuple[list[Draft], list[Upload], Draft]:
        async with app.state.sessionmaker() as db:
            drafts = (await db.execute(select(Draft).where(Draft.public_id.in_(made)))).scalars()
            ids = [d.id for d in drafts]
            query = select(Upload).where(Upload.draft_id.in_(ids))
            uploads = list((await db.execute(query)).scalars())
            copies = list((await db.execute(select(Draft).where(Draft.id.in_(ids)))).scalars())
            original = await db.scalar(select(Draft).where(Draft.public_id == source))
            assert original is not None
            return copies, uploads, original

    copies, uploads, original = client.portal.call(rows)  # type: ignore[union-attr]
    assert len(set(made)) == 3 and source not in made
    assert all(c.submitted_at is None and c.values == original.values for c in copies)
    assert all(c.materials == original.materials for c in copies)
    assert sorted(u.draft_id for u in uploads) == sorted(c.id for c in copies)
    assert len({u.public_id for u in uploads}) == 3 and len({u.stored_name for u in uploads}) == 1
    for public_id in made:
        page = client.get(f"/drafts/{public_id}/materials")
        assert page.status_code == 200 and "photo.jpg" in page.text


def test_an_unknown_draft_is_an_error(app: Starlette, client: TestClient) -> None:
    with pytest.raises(AssertionError):
        client.portal.call(  # type: ignore[union-attr]
            lambda: draft_copies.copy_drafts(app.state.sessionmaker, "no-such-draft", 1)
        )
