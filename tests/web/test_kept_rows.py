"""KeptRows, under what the session rows and application pages share: tags, and refusing the
values of reads that a change overtook."""

from __future__ import annotations

import pytest

from portal.applications.progress_pages import ProgressCache
from portal.web import kept_rows
from portal.web.db_changes import apply
from portal.web.kept_rows import KeptRows
from portal.web.session_cache import SessionCache


@pytest.fixture
def kept() -> KeptRows[str]:
    made: KeptRows[str] = KeptRows(seconds=30, entries=10)
    made.listening()
    return made


def test_a_tag_s_change_forgets_every_value_under_it(kept: KeptRows[str]) -> None:
    kept.put("page 1", "v1", [("application", 1)], kept.generation)
    kept.put("page 2", "v2", [("application", 1)], kept.generation)
    kept.put("page 3", "v3", [("application", 2)], kept.generation)
    kept.forget(("application", 1))
    assert [kept.get(k) for k in ("page 1", "page 2", "page 3")] == [None, None, "v3"]


def test_a_read_overtaken_by_a_change_of_its_tag_is_refused(kept: KeptRows[str]) -> None:
    began = kept.generation
    kept.forget(("application", 2))
    assert kept.put("page 3", "v3", [("application", 3)], began)  # another's change
    kept.forget(("application", 1))
    assert not kept.put("page 1", "old", [("application", 1)], began)
    assert kept.get("page 1") is None


def test_a_read_overtaken_by_everything_forgotten_is_refused(kept: KeptRows[str]) -> None:
    began = kept.generation
    kept.clear()  # "*", or the listener lost and back
    assert not kept.put("page 1", "old", [], began)
    assert kept.put("page 1", "new", [], kept.generation)


def test_a_read_older_than_the_changes_remembered_is_refused(
    kept: KeptRows[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_rows, "CHANGES_REMEMBERED", 3)
    began = kept.generation
    for n in range(4):  # the first change is no longer remembered: it might have been its tag
        kept.forget(("application", 100 + n))
    assert not kept.put("page 1", "old", [("application", 1)], began)
    assert kept.put("page 1", "new", [("application", 1)], kept.generation)


def test_a_value_kept_again_leaves_nothing_under_its_old_tags(kept: KeptRows[str]) -> None:
    kept.put("page 1", "v1", [("application", 1)], kept.generation)
    kept.put("page 1", "v1'", [("application", 2)], kept.generation)
    kept.forget(("application", 1))
    assert kept.get("page 1") == "v1'"


@pytest.mark.parametrize(
    ("payload", "sessions_left", "pages_left"),
    [
        ("a:1", 1, 1),  # application 1's page only
        ("a:2", 1, 1),
        ("a:3", 1, 2),  # an application nobody kept
        ("s:token", 0, 2),
        ("*", 0, 0),
        ("a:x", 0, 0),  # a message it cannot read: forget everything
    ],
)
def test_each_notice_reaches_the_cache_of_its_kind(
    payload: str, sessions_left: int, pages_left: int
) -> None:
    sessions, pages = SessionCache(30, 10), ProgressCache(30, 10)
    for cache in (sessions, pages):
        cache.listening()
    sessions.keep("token", 0, ("row",), 7, sessions.generation)
    for n in (1, 2):
        pages.put(f"page {n}", ["rows"], [("application", n)], pages.generation)
    apply([sessions, pages], payload)
    assert (len(sessions), len(pages)) == (sessions_left, pages_left)
