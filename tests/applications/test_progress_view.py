"""Deadlines as people see them: the platform's due time, working days left with the Chinese
calendar, overdue; and the guess limit of the lookup by number."""

from __future__ import annotations

from datetime import datetime

from portal import clock
from portal.applications.progress_view import deadline_of


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_days_left_skip_the_national_day_holiday() -> None:
    # 2026-09-30 (Wed) → 2026-10-09 (Fri): 1–7 October are holidays, 10 October a working Saturday
    due = {"due_at": "2026-10-09T17:00:00+08:00", "party": "authority"}
    found = deadline_of(due, _at("2026-09-30T10:00:00+08:00"))
    assert found is not None and found.days_left == 2 and not found.overdue


def test_a_past_due_time_is_overdue_with_negative_days() -> None:
    due = {"due_at": "2026-11-20T17:00:00+08:00", "party": "authority"}
    found = deadline_of(due, _at("2026-11-24T09:00:00+08:00"))
    assert found is not None and found.overdue and found.days_left == -2


def test_an_applicant_deadline_keeps_its_party_and_china_time() -> None:
    due = {"due_at": "2026-12-02T15:59:59+00:00", "party": "applicant"}
    found = deadline_of(due, _at("2026-11-25T09:48:12+08:00"))
    assert found is not None and found.party == "applicant"
    assert found.due_at == clock.china(_at("2026-12-02T23:59:59+08:00"))
    assert found.days_left == 5


def test_no_deadline_or_a_clock_not_started_shows_none() -> None:
    assert deadline_of(None) is None
    assert deadline_of({"due_at": None, "starts_on": "acceptance"}) is None
