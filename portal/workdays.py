"""Working days (工作日) of the Chinese calendar, for promised time limits and deadlines.

The ``chinese_calendar`` package knows public holidays and adjusted working days (调休) for
the years it was released with. For later years the State Council's schedule is entered in
``portal/data/workday_overrides.yaml`` once published; until then only weekends are days off,
which errs on the side of promising too early rather than too late.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import yaml

OVERRIDES = Path(__file__).parent / "data" / "workday_overrides.yaml"


@cache
def _overrides() -> tuple[frozenset[date], frozenset[date]]:
    data = yaml.safe_load(OVERRIDES.read_text(encoding="utf-8")) or {}
    holidays = frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", []))
    workdays = frozenset(date.fromisoformat(str(d)) for d in data.get("workdays", []))
    return holidays, workdays


def is_workday(day: date) -> bool:
    holidays, workdays = _overrides()
    if day in holidays:
        return False
    if day in workdays:
        return True
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not know yet
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the day of receipt does not count)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_workday(start + timedelta(days=n)))
