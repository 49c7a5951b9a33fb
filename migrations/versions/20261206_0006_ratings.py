"""ratings (好差评): one row per rating, its follow-up by the platform

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("thing_code", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("comment", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relay_status", sa.String(12), nullable=False),
        sa.Column("relay_error", sa.Text(), nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("followup", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rectified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fix_level", sa.String(24), nullable=True),
        sa.Column("fix_rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heard_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_ratings_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["people.id"], name=op.f("fk_ratings_rater_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("public_id", name=op.f("uq_ratings_public_id")),
        # 一事一评, enforced by the database so two racing requests cannot both rate.
        sa.UniqueConstraint(
            "application_id",
            "item_key",
            "rater_id",
            name=op.f("uq_ratings_application_id_item_key_rater_id"),
        ),
    )
    op.create_index(op.f("ix_ratings_application_id"), "ratings", ["application_id"])
    op.create_index(op.f("ix_ratings_thing_code"), "ratings", ["thing_code"])
    op.create_index(op.f("ix_ratings_department"), "ratings", ["department"])
    op.create_index(op.f("ix_ratings_heard_at"), "ratings", ["heard_at"])


def downgrade() -> None:
    op.drop_table("ratings")
