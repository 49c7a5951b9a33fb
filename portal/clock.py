"""The current time, always timezone-aware, and a fix for SQLite's naive datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes even for timezone-aware columns; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def china(moment: datetime) -> datetime:
    """The same instant in China time (+08:00), as the government platform writes it."""
    return aware(moment).astimezone(CHINA)
