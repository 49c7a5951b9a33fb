"""Imports every module that defines tables, so Alembic sees the whole schema."""

from portal.web.sessions import WebSession

__all__ = ["WebSession"]
