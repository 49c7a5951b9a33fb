"""The process's memory of session rows: what it keeps, for how long, and what it refuses."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal.web.db_changes import apply
from portal.web.session_cache import SessionCache

ROW = ("{}", "created", "seen", 7)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> SessionCache:
    kept = SessionCache(seconds=30, entries=3, monotonic=clock)
    kept.listening()
    return kept


def test_keeps_nothing_until_a_listener_hears_changes(clock: Clock) -> None:
    cache = SessionCache(seconds=30, entries=3, monotonic=clock)
    assert not cache.keep("a", 0, ROW, 7, cache.generation) and cache.row("a", 0) is None
    cache.listening()
    assert cache.keep("a", 0, ROW, 7, cache.generation) and cache.row("a", 0) == ROW


def test_a_lost_listener_forgets_everything_and_keeps_nothing_more(cache: SessionCache) -> None:
    cache.keep("a", 0, ROW, 7, cache.generation)
    cache.deaf()
    assert cache.row("a", 0) is None and len(cache) == 0
    assert not cache.keep("a", 0, ROW, 7, cache.generation)


def test_one_of_two_listeners_lost_still_lets_it_keep(cache: SessionCache) -> None:
    cache.listening()  # a second event loop's listener (tests run several)
    cache.deaf()
    assert cache.keep("a", 0, ROW, 7, cache.generation)


@pytest.mark.parametrize("change", [lambda c: c.forget("a"), lambda c: c.forget_person(7)])
def test_a_read_that_began_before_its_change_is_not_kept(
    cache: SessionCache, change: Callable[[SessionCache], None]
) -> None:
    began = cache.generation
    change(cache)  # heard while the read was on its way
    assert not cache.keep("a", 0, ROW, 7, began) and cache.row("a", 0) is None
    assert cache.keep("a", 0, ROW, 7, cache.generation)


def test_a_read_is_kept_when_only_others_changed_meanwhile(cache: SessionCache) -> None:
    began = cache.generation
    cache.forget("some other session")
    cache.forget_person(8)
    assert cache.keep("a", 0, ROW, 7, began) and cache.row("a", 0) == ROW


def test_rows_expire(cache: SessionCache, clock: Clock) -> None:
    cache.keep("a", 0, ROW, 7, cache.generation)
    clock.now += 29.9
    assert cache.row("a", 0) == ROW
    clock.now += 0.1
    assert cache.row("a", 0) is None and len(cache) == 0


def test_forgets_a_person_s_every_session(cache: SessionCache) -> None:
    cache.keep("a", 0, ROW, 7, cache.generation)
    cache.keep("b", 0, ROW, 7, cache.generation)
    cache.keep("c", 0, ROW, 8, cache.generation)
    cache.forget_person(7)
    assert cache.row("a", 0) is None and cache.row("b", 0) is None and cache.row("c", 0) == ROW
    cache.forget_person(7)  # nothing left of them: no error
    assert len(cache) == 1


def test_keeps_at_most_its_entries_the_oldest_go_first(cache: SessionCache) -> None:
    for token in "abcd":
        cache.keep(token, 0, ROW, None, cache.generation)
    assert cache.row("a", 0) is None and [cache.row(t, 0) for t in "bcd"] == [ROW] * 3


def test_a_row_kept_again_leaves_no_trace_under_its_old_person(cache: SessionCache) -> None:
    cache.keep("a", 0, ROW, 7, cache.generation)
    cache.keep("a", 0, ROW, 8, cache.generation)  # signed in as someone else since
    cache.forget_person(7)
    assert cache.row("a", 0) == ROW


def test_turned_off_keeps_nothing(clock: Clock) -> None:
    cache = SessionCache(seconds=0, entries=3, monotonic=clock)
    cache.listening()
    assert not cache.live and not cache.keep("a", 0, ROW, 7, cache.generation)


@pytest.mark.parametrize(
    ("payload", "left"),
    [
        ("s:a", {"b", "c"}),
        ("p:7", {"c"}),
        ("p:99", {"a", "b", "c"}),
        ("*", set()),
        ("p:not-a-number", set()),  # a message it cannot read: forget everything
        ("x:something new", set()),
    ],
)
def test_what_the_database_says_is_forgotten(
    cache: SessionCache, payload: str, left: set[str]
) -> None:
    cache.keep("a", 0, ROW, 7, cache.generation)
    cache.keep("b", 0, ROW, 7, cache.generation)
    cache.keep("c", 0, ROW, 8, cache.generation)
    apply([cache], payload)
    assert {t for t in "abc" if cache.row(t, 0) is not None} == left


def test_a_row_serves_only_the_version_of_the_data_it_was_read_for(cache: SessionCache) -> None:
    cache.keep("a", 3, ROW, 7, cache.generation)
    assert cache.row("a", 3) == ROW
    assert cache.row("a", 4) is None  # the browser has seen a change this process has not
    assert cache.row("a", 2) is None
