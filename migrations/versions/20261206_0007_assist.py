"""assist: slots, bookings, sessions (the queue), consents, co-fill proposals, chat, draft audit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 17:58:14.713465
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assist_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thing_code", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_slots")),
        sa.UniqueConstraint(
            "thing_code", "starts_at", name=op.f("uq_assist_slots_thing_code_starts_at")
        ),
    )
    with op.batch_alter_table("assist_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assist_slots_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "assist_bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("thing_code", sa.String(length=64), nullable=False),
        sa.Column("active_key", sa.String(length=80), nullable=True),
        sa.Column("draft_public_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_assist_bookings_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["assist_slots.id"], name=op.f("fk_assist_bookings_slot_id_assist_slots")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_bookings")),
        sa.UniqueConstraint("active_key", name=op.f("uq_assist_bookings_active_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_assist_bookings_public_id")),
    )
    with op.batch_alter_table("assist_bookings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_bookings_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assist_bookings_slot_id"), ["slot_id"], unique=False)

    op.create_table(
        "assist_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.Integer(), nullable=False),
        sa.Column("assistant_id", sa.Integer(), nullable=True),
        sa.Column("thing_code", sa.String(length=64), nullable=False),
        sa.Column("open_for", sa.Integer(), nullable=True),
        sa.Column("draft_public_id", sa.String(length=32), nullable=True),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("callback_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("media", sa.String(length=12), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assistant_id"], ["people.id"], name=op.f("fk_assist_sessions_assistant_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["assist_bookings.id"],
            name=op.f("fk_assist_sessions_booking_id_assist_bookings"),
        ),
        sa.ForeignKeyConstraint(
            ["citizen_id"],
            ["people.id"],
            name=op.f("fk_assist_sessions_citizen_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_sessions")),
        sa.UniqueConstraint("open_for", name=op.f("uq_assist_sessions_open_for")),
        sa.UniqueConstraint("public_id", name=op.f("uq_assist_sessions_public_id")),
    )
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_sessions_assistant_id"), ["assistant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assist_sessions_citizen_id"), ["citizen_id"], unique=False
        )
        batch_op.create_index(
            "ix_assist_sessions_queue", ["status", "priority", "queued_at"], unique=False
        )

    op.create_table(
        "assist_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("draft_public_id", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["assist_sessions.id"],
            name=op.f("fk_assist_consents_session_id_assist_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_consents")),
    )
    with op.batch_alter_table("assist_consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_consents_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "assist_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("sender_role", sa.String(length=10), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["assist_sessions.id"],
            name=op.f("fk_assist_messages_session_id_assist_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_messages")),
    )
    with op.batch_alter_table("assist_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_messages_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "assist_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("draft_public_id", sa.String(length=32), nullable=False),
        sa.Column("field_key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["assist_sessions.id"],
            name=op.f("fk_assist_proposals_session_id_assist_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assist_proposals")),
    )
    with op.batch_alter_table("assist_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assist_proposals_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "draft_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_public_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("field_key", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_draft_changes_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["assist_sessions.id"],
            name=op.f("fk_draft_changes_session_id_assist_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft_changes")),
    )
    with op.batch_alter_table("draft_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_draft_changes_draft_public_id"), ["draft_public_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("draft_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_draft_changes_draft_public_id"))

    op.drop_table("draft_changes")
    with op.batch_alter_table("assist_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_proposals_session_id"))

    op.drop_table("assist_proposals")
    with op.batch_alter_table("assist_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_messages_session_id"))

    op.drop_table("assist_messages")
    with op.batch_alter_table("assist_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_consents_session_id"))

    op.drop_table("assist_consents")
    with op.batch_alter_table("assist_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_assist_sessions_queue")
        batch_op.drop_index(batch_op.f("ix_assist_sessions_citizen_id"))
        batch_op.drop_index(batch_op.f("ix_assist_sessions_assistant_id"))

    op.drop_table("assist_sessions")
    with op.batch_alter_table("assist_bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_bookings_slot_id"))
        batch_op.drop_index(batch_op.f("ix_assist_bookings_person_id"))

    op.drop_table("assist_bookings")
    with op.batch_alter_table("assist_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assist_slots_starts_at"))

    op.drop_table("assist_slots")
