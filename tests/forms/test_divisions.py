"""The administrative divisions behind the address field and prefill's address parsing."""

from __future__ import annotations

import pytest

from portal.forms import divisions


def test_children_come_from_an_index_not_a_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    provinces = divisions.children(None)
    parsed = divisions.parse_text("河南省新乡市红旗区人民路1号")
    assert parsed is not None

    class Scanned(dict[str, divisions.Division]):
        def values(self) -> object:  # type: ignore[override]
            raise AssertionError("children() scanned every division")

    scanned = Scanned(divisions._index())
    monkeypatch.setattr(divisions, "_index", lambda: scanned)
    assert divisions.children(None) == provinces
    assert divisions.parse_text("河南省新乡市红旗区人民路1号") == parsed


def test_parse_text_and_children_agree() -> None:
    province, city, county, street = divisions.parse_text("河南省新乡市红旗区人民路1号") or (
        "",
        "",
        "",
        "",
    )
    assert street == "人民路1号"
    assert divisions.is_chain(province, city, county)
    assert [d.code for d in divisions.children(city)].count(county) == 1
    assert all(d.parent is None for d in divisions.children(None))
    assert divisions.children("no such code") == []
