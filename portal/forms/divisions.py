"""Administrative divisions (GB/T 2260): province → city → county, for the address field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "divisions-pca-code.json"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str | None


@cache
def _index() -> dict[str, Division]:
    index: dict[str, Division] = {}

    def walk(nodes: list[dict[str, object]], parent: str | None) -> None:
        for node in nodes:
            code = str(node["code"])
            index[code] = Division(code, str(node["name"]), parent)
            children = node.get("children")
            if isinstance(children, list):
                walk(children, code)

    walk(json.loads(DATA.read_text(encoding="utf-8")), None)
    return index


@cache
def _by_parent() -> dict[str | None, tuple[Division, ...]]:
    """Each division's children, in the data's order: a page with an address field and each
    address prefilled from text asks for them several times (a scan of all 3 400 divisions
    each time was the largest cost of prefill in the apply visit's profile)."""
    found: dict[str | None, list[Division]] = {}
    for division in _index().values():
        found.setdefault(division.parent, []).append(division)
    return {parent: tuple(divisions) for parent, divisions in found.items()}


def get(code: str) -> Division | None:
    return _index().get(code)


def children(parent: str | None) -> list[Division]:
    return list(_by_parent().get(parent, ()))


def is_chain(province: str, city: str, county: str) -> bool:
    """Whether the three codes name a real county in that city in that province."""
    p, c, k = get(province), get(city), get(county)
    return bool(p and c and k and p.parent is None and c.parent == p.code and k.parent == c.code)


def full_name(province: str, city: str, county: str) -> str:
    parts = [get(code) for code in (province, city, county)]
    names = [d.name for d in parts if d is not None]
    # 市辖区 is a placeholder level in the standard, never written in an address.
    return "".join(n for n in names if n not in ("市辖区", "县"))


def parse_text(text: str) -> tuple[str, str, str, str] | None:
    """Split a written address into (province, city, county, street) codes and the rest.

    Licenses and profiles hold addresses as text ("河南省新乡市红旗区人民路1号"); the form
    wants codes. Names are unique within their parent, so a prefix walk is unambiguous.
    """
    rest = text.strip()
    province = _match_prefix(rest, children(None))
    if province is None:
        return None
    rest = rest[len(province.name) :]
    cities = children(province.code)
    city = _match_prefix(rest, cities)
    if city is not None:
        rest = rest[len(city.name) :]
    elif len(cities) == 1:  # 直辖市: the city level is the placeholder 市辖区
        city = cities[0]
    else:
        return None
    county = _match_prefix(rest, children(city.code))
    if county is None:
        return None
    return province.code, city.code, county.code, rest[len(county.name) :].strip()


def _match_prefix(text: str, candidates: list[Division]) -> Division | None:
    matches = [d for d in candidates if text.startswith(d.name)]
    return max(matches, key=lambda d: len(d.name)) if matches else None
