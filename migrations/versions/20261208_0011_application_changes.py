"""PostgreSQL also tells every process when an application or anything its page shows
changes, so each may keep the application pages it read (portal.applications.progress_pages);
the channel, now not only sessions', becomes ``portal_changes`` (portal.web.db_changes)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHANNEL = "portal_changes"  # portal.web.db_changes.CHANNEL, as of this revision
OLD_CHANNEL = "portal_session_changes"  # revision 0010's


def _notifying(function: str, payload: str, channel: str = CHANNEL) -> str:
    return f"""
    CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{channel}', {payload});
        RETURN NULL;
    END $$
    """


# A row of a table that belongs to an application (NULL for some outbox rows and
# notifications): its application, and the one it belonged to before, should that change.
PART_CHANGED = f"""
CREATE FUNCTION portal_application_part_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'DELETE' AND NEW.application_id IS NOT NULL THEN
        PERFORM pg_notify('{CHANNEL}', 'a:' || NEW.application_id);
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.application_id IS NOT NULL
            AND (TG_OP = 'DELETE' OR OLD.application_id IS DISTINCT FROM NEW.application_id) THEN
        PERFORM pg_notify('{CHANNEL}', 'a:' || OLD.application_id);
    END IF;
    RETURN NULL;
END $$
"""

# Tables whose rows the application page shows, and for the busy ones, the only columns of an
# update it shows (the relay's leases and attempts change an outbox row often).
PARTS = {
    "application_items": None,
    "application_events": None,
    "ratings": None,
    "outbox": ("state", "topic", "application_id"),
    "notifications": ("state", "channel", "created_at", "application_id"),
}


def _part_triggers(table: str, shown: tuple[str, ...] | None) -> list[str]:
    each_row = "FOR EACH ROW EXECUTE FUNCTION portal_application_part_changed()"
    if shown is None:
        return [f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE ON {table} {each_row}"]
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in shown)
    return [
        f"CREATE TRIGGER {table}_changed AFTER INSERT OR DELETE ON {table} {each_row}",
        f"CREATE TRIGGER {table}_updated AFTER UPDATE ON {table} "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION portal_application_part_changed()",
    ]


def _emptied(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_emptied AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION portal_all_changed()"
    )


UPGRADE = [
    # Revision 0010's three, on the new channel.
    _notifying("portal_session_changed", "'s:' || OLD.token_hash"),
    _notifying("portal_person_changed", "'p:' || OLD.id"),
    _notifying("portal_sessions_emptied", "'*'"),
    _notifying("portal_all_changed", "'*'"),
    _notifying("portal_application_changed", "'a:' || OLD.id"),
    PART_CHANGED,
    """
    CREATE TRIGGER applications_changed AFTER UPDATE OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION portal_application_changed()
    """,
    _emptied("applications"),
    *(statement for table, shown in PARTS.items() for statement in _part_triggers(table, shown)),
    *(_emptied(table) for table in PARTS),
]

DOWNGRADE = [
    *(f"DROP TRIGGER {table}_emptied ON {table}" for table in (*PARTS, "applications")),
    *(f"DROP TRIGGER IF EXISTS {table}_updated ON {table}" for table in PARTS),
    *(f"DROP TRIGGER {table}_changed ON {table}" for table in (*PARTS, "applications")),
    "DROP FUNCTION portal_application_part_changed()",
    "DROP FUNCTION portal_application_changed()",
    "DROP FUNCTION portal_all_changed()",
    _notifying("portal_session_changed", "'s:' || OLD.token_hash", OLD_CHANNEL),
    _notifying("portal_person_changed", "'p:' || OLD.id", OLD_CHANNEL),
    _notifying("portal_sessions_emptied", "'*'", OLD_CHANNEL),
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # no other database can tell the processes; they keep nothing
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
