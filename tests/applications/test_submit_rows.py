"""What one submission writes (by Core statements, not the session's unit of work): every
row, the sealed columns sealed at rest, the outbox body the package of this application."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select, text
from starlette.applications import Starlette
from starlette.testclient import TestClient

from portal.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationItem,
    Draft,
    OutboxMessage,
)
from portal.relay import outbox
from tests.conftest import csrf_token_from
from tests.relay.live import fill_newborn


def test_a_submission_writes_its_rows_once_and_sealed(client: TestClient, app: Starlette) -> None:
    base = fill_newborn(client)
    draft_id = base.rsplit("/", 1)[1]
    token = csrf_token_from(client.get(f"{base}/check").text)
    answer = client.post(f"{base}/submit", data={"csrf_token": token}, follow_redirects=False)
    public_id = answer.headers["location"].split("?")[0].rsplit("/", 1)[1]

    async def load() -> dict[str, object]:
        async with app.state.sessionmaker() as db:
            application = await db.scalar(
                select(Application).where(Application.public_id == public_id)
            )
            assert application is not None
            raw = (
                await db.execute(
                    text('SELECT "values", delivery, platform FROM applications WHERE id = :id'),
                    {"id": application.id},
                )
            ).one()
            items = await db.scalar(
                select(func.count())
                .select_from(ApplicationItem)
                .where(ApplicationItem.application_id == application.id)
            )
            lines = list(
                await db.scalars(
                    select(ApplicationEvent.kind).where(
                        ApplicationEvent.application_id == application.id
                    )
                )
            )
            row = await db.scalar(
                select(OutboxMessage).where(OutboxMessage.application_id == application.id)
            )
            assert row is not None
            body = json.loads(app.state.cipher.decrypt(row.body, outbox.PURPOSE))
            draft = await db.scalar(select(Draft).where(Draft.public_id == draft_id))
            assert draft is not None
            return {
                "application": application,
                "raw": [str(column) for column in raw],
                "items": items,
                "lines": lines,
                "row": row,
                "body": body,
                "draft_submitted": draft.submitted_at is not None,
            }

    found = client.portal.call(load)  # type: ignore[union-attr]
    application = found["application"]
    assert isinstance(application, Application)
    number = f"YJS{application.submitted_at:%Y%m%d}{application.id:06d}"
    assert application.submission_number == number
    assert re.fullmatch(r"YJS\d{14}", application.submission_number or "")
    assert application.values["child_name"] == "张小宝" and application.delivery["method"]
    # The form values, the delivery and the platform's state are sealed at rest.
    assert all("sealed" in column and "张小宝" not in column for column in found["raw"])  # type: ignore[attr-defined]
    assert found["items"] == application.figures["items"] >= 1
    assert found["lines"] == ["portal.submitted"]
    row = found["row"]
    assert isinstance(row, OutboxMessage)
    assert (row.topic, row.idempotency_key, row.state) == ("intake.submit", public_id, "pending")
    assert found["body"]["path"] == "/applications"  # type: ignore[index]
    package = found["body"]["body"]  # type: ignore[index]
    assert package["application_id"] == public_id
    assert package["submission_number"] == application.submission_number
    assert found["draft_submitted"]
