from datetime import date

from portal import workdays


def test_national_day_and_its_adjusted_working_days() -> None:
    assert not workdays.is_workday(date(2026, 10, 1))  # 国庆节
    assert workdays.is_workday(date(2026, 10, 10))  # a Saturday worked in exchange (调休)


def test_adding_working_days_skips_the_golden_week() -> None:
    # Received on Wednesday 2026-09-30: Oct 1-7 are off, Oct 8, 9 and the 调休 Saturday 10 count.
    due = workdays.add_working_days(date(2026, 9, 30), 3)
    assert due == date(2026, 10, 10)
    assert workdays.working_days_between(date(2026, 9, 30), due) == 3


def test_a_plain_week() -> None:
    assert workdays.add_working_days(date(2026, 11, 20), 1) == date(2026, 11, 23)  # Fri → Mon
    assert workdays.working_days_between(date(2026, 11, 23), date(2026, 11, 20)) == -1


def test_years_the_package_lacks_fall_back_to_weekends() -> None:
    assert workdays.is_workday(date(2027, 3, 3))  # a Wednesday
    assert not workdays.is_workday(date(2027, 3, 6))  # a Saturday


def test_overrides_win(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        workdays,
        "_overrides",
        lambda: (frozenset({date(2027, 3, 3)}), frozenset({date(2027, 3, 6)})),
    )
    assert not workdays.is_workday(date(2027, 3, 3))
    assert workdays.is_workday(date(2027, 3, 6))
