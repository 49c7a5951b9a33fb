"""PostgreSQL tells every process when a session or its person changes (NOTIFY), so each
may keep the session rows it read (portal.web.session_changes)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHANNEL = "portal_session_changes"  # portal.web.session_changes.CHANNEL, as of this revision


def _notifying(function: str, payload: str) -> str:
    return f"""
    CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('{CHANNEL}', {payload});
        RETURN NULL;
    END $$
    """


UPGRADE = [
    _notifying("portal_session_changed", "'s:' || OLD.token_hash"),
    _notifying("portal_person_changed", "'p:' || OLD.id"),
    _notifying("portal_sessions_emptied", "'*'"),
    """
    CREATE TRIGGER web_sessions_changed AFTER UPDATE OR DELETE ON web_sessions
    FOR EACH ROW EXECUTE FUNCTION portal_session_changed()
    """,
    # The session's read joins only the person's name and roles.
    """
    CREATE TRIGGER people_changed AFTER UPDATE OF name, roles OR DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION portal_person_changed()
    """,
    """
    CREATE TRIGGER web_sessions_emptied AFTER TRUNCATE ON web_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION portal_sessions_emptied()
    """,
    """
    CREATE TRIGGER people_emptied AFTER TRUNCATE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION portal_sessions_emptied()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER people_emptied ON people",
    "DROP TRIGGER web_sessions_emptied ON web_sessions",
    "DROP TRIGGER people_changed ON people",
    "DROP TRIGGER web_sessions_changed ON web_sessions",
    "DROP FUNCTION portal_sessions_emptied()",
    "DROP FUNCTION portal_person_changed()",
    "DROP FUNCTION portal_session_changed()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # no other database can tell the processes; they do not cache sessions
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
