"""relay and progress: platform state and sequences, timeline, webhook ids, sealed outbox,
notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("submission_number", sa.String(32), nullable=True))
        batch.add_column(sa.Column("applicant_tail_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="-1"))
        batch.add_column(sa.Column("platform", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("delivery", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(
            sa.Column("relay_status", sa.String(12), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("relay_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("status", type_=sa.String(24))
        batch.alter_column("receipt_number", type_=sa.String(40))
        # The platform's number: unique there, but the portal must never refuse an event over
        # it (a second platform, a test environment); looked up by index instead.
        batch.drop_constraint("uq_applications_receipt_number", type_="unique")
        batch.create_index(op.f("ix_applications_receipt_number"), ["receipt_number"])
        batch.create_unique_constraint(
            op.f("uq_applications_submission_number"), ["submission_number"]
        )
        batch.create_index(op.f("ix_applications_updated_at"), ["updated_at"])
    # Until now the portal's own YJS number sat in receipt_number; the platform issues that.
    op.execute("UPDATE applications SET submission_number = receipt_number, receipt_number = NULL")

    with op.batch_alter_table("application_items") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="-1"))
        batch.add_column(sa.Column("snapshot", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column("status", type_=sa.String(24))

    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    op.create_index(
        op.f("ix_application_events_application_id"), "application_events", ["application_id"]
    )
    op.create_table(
        "webhook_messages",
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_webhook_messages")),
    )
    op.create_index(
        op.f("ix_webhook_messages_received_at"), "webhook_messages", ["received_at"]
    )

    # Outbox rows written before this revision were never relayed: nothing to carry over.
    op.drop_table("outbox")
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_outbox_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "available_at"])
    op.create_index(op.f("ix_outbox_application_id"), "outbox", ["application_id"])

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("event", sa.String(48), nullable=False),
        sa.Column("template", sa.String(40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_notifications_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notifications_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_application_id"), "notifications", ["application_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("wechat", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_notification_preferences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("outbox")
    op.drop_table("webhook_messages")
    op.drop_table("application_events")
    with op.batch_alter_table("application_items") as batch:
        for column in ("due_at", "snapshot", "sequence"):
            batch.drop_column(column)
    op.execute("UPDATE applications SET receipt_number = submission_number")
    with op.batch_alter_table("applications") as batch:
        batch.drop_index(op.f("ix_applications_receipt_number"))
        batch.create_unique_constraint("uq_applications_receipt_number", ["receipt_number"])
        batch.drop_index(op.f("ix_applications_updated_at"))
        batch.drop_constraint(op.f("uq_applications_submission_number"), type_="unique")
        for column in (
            "updated_at",
            "relay_error",
            "relay_status",
            "delivery",
            "platform",
            "sequence",
            "applicant_tail_hash",
            "submission_number",
        ):
            batch.drop_column(column)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_available_at"), "outbox", ["available_at"])
