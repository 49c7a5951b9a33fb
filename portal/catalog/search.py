"""Search over one-things: Chinese substrings (simplified or traditional), full pinyin,
pinyin initials (``xsecs`` → 新生儿出生), English names and department names.

Pinyin is matched character by character against every reading of each character
(heteronyms included, so 重庆 matches ``chongqing`` and 重量 ``zhongliang``): each character
consumes its whole reading or its first letter, and the last one may be a prefix, so
``xinshengerc``, ``xser`` and ``xinsheng`` all find 新生儿出生.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import opencc
from pypinyin import Style, pinyin

from portal.catalog.loader import Catalog
from portal.catalog.schema import OneThing

_HANZI = re.compile(r"[\u3400-\u9fff]")
_NOT_WORD = re.compile(r"[^\w]+")

# How much a match counts, by where it was found.
WEIGHTS = {"name": 100, "keyword": 60, "item": 40, "department": 20}


@dataclass(frozen=True)
class SearchHit:
    thing: OneThing
    score: int
    matched: str  # the text that matched, shown under the result
    where: str  # name | keyword | item | department


@dataclass(frozen=True)
class _Entry:
    thing: OneThing
    where: str
    display: str  # shown to the user
    plain: str  # lowercase, no punctuation or spaces
    readings: tuple[tuple[str, ...], ...]  # per character of the zh_Hans text


@cache
def _readings(char: str) -> tuple[str, ...]:
    if not _HANZI.match(char):
        return (char,)
    found = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return tuple(dict.fromkeys(r.replace("ü", "v") for r in found))


def _plain(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


@cache
def _simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def pinyin_matches(readings: tuple[tuple[str, ...], ...], query: str) -> bool:
    """Whether ``query`` (ASCII letters) spells consecutive characters of the text."""

    @cache
    def from_here(i: int, j: int) -> bool:
        if j == len(query):
            return True
        if i == len(readings):
            return False
        rest = query[j:]
        for reading in readings[i]:
            if rest.startswith(reading) and from_here(i + 1, j + len(reading)):
                return True
            if rest[0] == reading[0] and from_here(i + 1, j + 1):
                return True
            if len(rest) < len(reading) and reading.startswith(rest):
                return True
        return False

    return any(from_here(start, 0) for start in range(len(readings)))


class SearchIndex:
    def __init__(self, catalog: Catalog) -> None:
        self.entries: list[_Entry] = []
        for thing in catalog.things.values():
            self._add(thing, "name", [thing.name.zh_Hans, thing.name.en, thing.name.ug or ""])
            self._add(thing, "keyword", thing.keywords)
            for item in thing.items:
                self._add(thing, "item", [item.name.zh_Hans, item.name.en])
            departments = {thing.lead_department}
            for item in thing.items:
                departments.update([item.department, *item.co_departments])
            for key in sorted(departments):
                name = catalog.departments[key].name
                self._add(thing, "department", [name.zh_Hans, name.en])

    def _add(self, thing: OneThing, where: str, texts: list[str]) -> None:
        for text in texts:
            plain = _plain(text)
            if plain:
                readings = tuple(_readings(c) for c in plain)
                self.entries.append(_Entry(thing, where, text, plain, readings))

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        return list(self._search(query, limit))

    # The catalog does not change while the process runs, and people search for the same few
    # words: a pinyin query walks every entry's readings (a fifth of a loaded worker's search
    # time was building those walks), a remembered one costs a dictionary lookup.
    @lru_cache(maxsize=2048)  # noqa: B019 (one index per process, kept for its life)
    def _search(self, query: str, limit: int) -> tuple[SearchHit, ...]:
        q = _plain(str(_simplified().convert(query.strip())))
        if not q:
            return ()
        pinyin_query = q if q.isascii() and q.isalpha() else None
        best: dict[str, SearchHit] = {}
        for entry in self.entries:
            if q in entry.plain:
                score = WEIGHTS[entry.where] + (10 if entry.plain.startswith(q) else 0)
            elif pinyin_query and pinyin_matches(entry.readings, pinyin_query):
                score = WEIGHTS[entry.where] - 5
            else:
                continue
            current = best.get(entry.thing.code)
            if current is None or score > current.score:
                best[entry.thing.code] = SearchHit(entry.thing, score, entry.display, entry.where)
        hits = sorted(best.values(), key=lambda h: (-h.score, -h.thing.popularity, h.thing.code))
        return tuple(hits[:limit])
