import pytest

from portal.catalog.loader import load_catalog
from portal.catalog.search import SearchIndex, _readings, pinyin_matches


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_catalog())


def _codes(index: SearchIndex, query: str) -> list[str]:
    return [hit.thing.code for hit in index.search(query)]


@pytest.mark.parametrize(
    "query",
    [
        "新生儿",
        "新生兒",
        "出生",
        "xsecs",
        "xinshengerchusheng",
        "xinsheng",
        "XSE",
        "newborn",
        "Newborn",
    ],
)
def test_finds_newborn(index: SearchIndex, query: str) -> None:
    assert _codes(index, query)[0] == "newborn"


def test_keyword_and_department_matches_say_where(index: SearchIndex) -> None:
    [hit] = [h for h in index.search("上户口") if h.thing.code == "newborn"]
    assert (hit.where, hit.matched) == ("keyword", "上户口")
    [hit] = [h for h in index.search("卫生健康委员会") if h.thing.code == "newborn"]
    assert hit.where in ("department", "name", "item")


def test_sub_item_name_finds_its_one_thing(index: SearchIndex) -> None:
    assert "newborn" in _codes(index, "预防接种证")
    assert "newborn" in _codes(index, "yfjzz")


def test_nothing_for_nonsense_or_empty(index: SearchIndex) -> None:
    assert _codes(index, "qqqqxz") == []
    assert _codes(index, "   ") == []


def test_heteronyms_match_either_reading() -> None:
    chongqing = tuple(_readings(c) for c in "重庆")
    zhongliang = tuple(_readings(c) for c in "重量")
    assert pinyin_matches(chongqing, "chongqing")
    assert pinyin_matches(zhongliang, "zhongliang")
    assert pinyin_matches(chongqing, "cq") and pinyin_matches(zhongliang, "zl")


def test_pinyin_matches_consecutive_characters_only() -> None:
    text = tuple(_readings(c) for c in "新生儿出生")
    assert pinyin_matches(text, "shengerchu")  # starts mid-string
    assert pinyin_matches(text, "xinshengerc")  # last syllable may be a prefix
    assert not pinyin_matches(text, "xincs")  # skips 生儿
