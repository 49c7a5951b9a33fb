"""The rules without pages: the deadline in working days (across the National Day holiday)
and its overdue flag, the sequence rule on follow-up snapshots (steps always in order), and
the public figures of a fixture against values computed by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import FormData

from portal import clock
from portal.ratings import figures, followup, services
from portal.ratings.figures import Row
from portal.ratings.models import Rating

CHINA = clock.CHINA


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def bad_rating(rated: str, days: int = 5) -> Rating:
    return Rating(
        level=2,
        state="received",
        sequence=0,
        followup={},
        due_at=services.rectify_due(at(rated), days),
        rectified_at=None,
    )


def test_the_deadline_counts_working_days_across_the_national_day_holiday() -> None:
    # 2026-09-29 (Tue) + 5 working days: 9-30, 10-08, 10-09, 10-10 (调休 Saturday), 10-12.
    rating = bad_rating("2026-09-29T15:00:00+08:00")
    assert rating.due_at == at("2026-10-12T17:00:00+08:00")
    before = followup.deadline(rating, at("2026-10-09T10:00:00+08:00"))
    assert before is not None and (before.days_left, before.overdue) == (2, False)
    last_day = followup.deadline(rating, at("2026-10-12T16:59:00+08:00"))
    assert last_day is not None and (last_day.days_left, last_day.overdue) == (0, False)
    after = followup.deadline(rating, at("2026-10-13T09:00:00+08:00"))
    assert after is not None and (after.days_left, after.overdue) == (-1, True)


@pytest.mark.parametrize("days", [5, 7, 15])
def test_the_period_is_the_setting(days: int) -> None:
    due = services.rectify_due(at("2026-11-02T09:00:00+08:00"), days)  # a Monday
    expected = {5: "2026-11-09", 7: "2026-11-11", 15: "2026-11-23"}[days]
    assert due.date().isoformat() == expected


def test_a_rectification_done_late_is_flagged_and_not_overdue_any_more() -> None:
    rating = bad_rating("2026-09-29T15:00:00+08:00")
    rating.rectified_at = at("2026-10-13T10:00:00+08:00")
    late = followup.deadline(rating, at("2026-10-20T10:00:00+08:00"))
    assert late is not None and (late.overdue, late.done_on_time) == (False, False)
    rating.rectified_at = at("2026-10-12T10:00:00+08:00")
    kept = followup.deadline(rating, at("2026-10-20T10:00:00+08:00"))
    assert kept is not None and kept.done_on_time is True


def test_an_explained_rating_has_no_rectification_deadline() -> None:
    rating = bad_rating("2026-09-29T15:00:00+08:00")
    rating.state = "explained"
    assert followup.deadline(rating, at("2026-12-01T10:00:00+08:00")) is None


def _snapshots() -> list[dict[str, object]]:
    kinds = ["verified", "rectification_planned", "rectified", "closed"]
    states = ["verified", "rectifying", "rectified", "closed"]
    start = at("2026-11-02T09:00:00+08:00")
    events = [
        {"sequence": n + 1, "kind": kind, "occurred_at": (start + timedelta(hours=n)).isoformat()}
        for n, kind in enumerate(kinds)
    ]
    return [
        {"sequence": n + 1, "state": states[n], "follow_up": {"events": events[: n + 1]}}
        for n in range(len(kinds))
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_follow_up_converges_with_its_steps_in_order(seed: int) -> None:
    rating = bad_rating("2026-11-02T08:00:00+08:00")
    shuffled = _snapshots()
    random.Random(seed).shuffle(shuffled)
    for snapshot in shuffled:
        followup.apply(rating, snapshot)
    assert (rating.state, rating.sequence) == ("closed", 4)
    assert [s["kind"] for s in followup.steps(rating)] == [
        "verified",
        "rectification_planned",
        "rectified",
        "closed",
    ]
    assert rating.followed_up_at == at("2026-11-02T09:00:00+08:00")
    assert rating.rectified_at == at("2026-11-02T11:00:00+08:00")


def test_an_older_snapshot_changes_nothing() -> None:
    rating = bad_rating("2026-11-02T08:00:00+08:00")
    newer, older = _snapshots()[2], _snapshots()[0]
    assert followup.apply(rating, newer) is True
    assert followup.apply(rating, older) is False
    assert followup.apply(rating, newer) is False  # the same again
    assert rating.state == "rectified"


def test_what_a_rating_must_say() -> None:
    def answer(**values: object) -> services.Answer:
        items = [(k, v) for k, vs in values.items() for v in (vs if isinstance(vs, list) else [vs])]
        return services.read_answer(FormData(items))  # type: ignore[arg-type]

    assert services.problems(answer()) == {"level": "level_missing"}
    assert services.problems(answer(level="9")) == {"level": "level_missing"}
    assert services.problems(answer(level="1")) == {"reasons": "reasons_missing"}
    assert services.problems(answer(level="2", reasons="other")) == {"comment": "comment_needed"}
    assert services.problems(answer(level="2", reasons=["slow", "made_up"])) == {}
    assert answer(level="2", reasons=["slow", "made_up"]).reasons == ["slow"]
    assert services.problems(answer(level="3", comment="x" * 501)) == {"comment": "comment_long"}
    # Only the chosen level's indicators count; reasons only with a bad level.
    good = answer(
        level="4", indicators_good="efficiency", indicators_fair="overall", reasons="slow"
    )
    assert (good.indicators, services.kept(good).reasons) == (["efficiency"], [])


def _row(level: int, **kw: object) -> Row:
    values: dict[str, object] = {
        "state": "received",
        "due_at": None,
        "followed_up_at": None,
        "rectified_at": None,
    }
    return Row(level=level, **{**values, **kw})  # type: ignore[arg-type]


NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
DUE_PAST = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
DUE_AHEAD = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FIXTURE = [
    # Three 非常满意, two 满意, one 基本满意.
    *(_row(5) for _ in range(3)),
    *(_row(4) for _ in range(2)),
    _row(3),
    # 不满意: followed up and rectified on time.
    _row(
        2,
        state="closed",
        due_at=DUE_PAST,
        followed_up_at=DUE_PAST - timedelta(days=5),
        rectified_at=DUE_PAST - timedelta(days=1),
    ),
    # 不满意: followed up, rectified one day late.
    _row(
        2,
        state="rectified",
        due_at=DUE_PAST,
        followed_up_at=DUE_PAST - timedelta(days=5),
        rectified_at=DUE_PAST + timedelta(days=1),
    ),
    # 非常不满意: followed up, explained: no rectification counted.
    _row(1, state="explained", due_at=DUE_PAST, followed_up_at=DUE_PAST - timedelta(days=4)),
    # 非常不满意: not followed up, past due: counted, not on time.
    _row(1, due_at=DUE_PAST),
    # 非常不满意: followed up, plan under way, not yet due: not counted.
    _row(1, state="rectifying", due_at=DUE_AHEAD, followed_up_at=DUE_PAST),
]


def test_the_figures_of_a_fixture_equal_the_hand_computed_ones() -> None:
    found = figures.compute(FIXTURE, NOW)
    assert found.per_level == {5: 3, 4: 2, 3: 1, 2: 2, 1: 3}
    assert found.total == 11
    assert found.satisfaction_rate == pytest.approx(6 / 11)
    assert (found.bad, found.followed_up) == (5, 4)
    assert found.followup_rate == pytest.approx(4 / 5)
    # Counted: the two rectified and the overdue one; on time: the first only.
    assert (found.rectify_counted, found.rectified_on_time) == (3, 1)
    assert found.on_time_rate == pytest.approx(1 / 3)
    assert [b.share for b in figures.bars(found)] == pytest.approx([1, 2 / 3, 1 / 3, 2 / 3, 1])


def test_no_ratings_means_no_rates() -> None:
    found = figures.compute([], NOW)
    assert found.total == 0
    assert (found.satisfaction_rate, found.followup_rate, found.on_time_rate) == (None,) * 3


def test_the_period_setting_takes_5_7_or_15_only() -> None:
    from portal.settings import Settings

    assert Settings.from_env({"PORTAL_RATING_RECTIFY_DAYS": "7"}).rating_rectify_days == 7
    with pytest.raises(ValueError, match="PORTAL_RATING_RECTIFY_DAYS"):
        Settings.from_env({"PORTAL_RATING_RECTIFY_DAYS": "10"})
