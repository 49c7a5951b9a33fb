"""Assurance levels (``acr``), the Guangdong model of docs/identity.md: L2 < L3 < L4 < L5.

The order matters more than the names: a request for ``acr_values=L4`` is met by L4 or L5,
never by L3, and a person can never be signed in above what they can reach.
"""

from __future__ import annotations

from typing import Literal, TypeGuard

Level = Literal["L2", "L3", "L4", "L5"]
LEVELS: tuple[Level, ...] = ("L2", "L3", "L4", "L5")

MEANINGS: dict[Level, str] = {
    "L2": "自行声明身份",
    "L3": "实名：与人口库比对",
    "L4": "实名 + 实人：人脸识别",
    "L5": "数字证书或窗口核验",
}


def is_level(value: object) -> TypeGuard[Level]:
    return value in LEVELS


def rank(level: Level) -> int:
    return LEVELS.index(level)


def requested_minimum(acr_values: str | None) -> Level | None:
    """The lowest level the client asked for, or None if it asked for none we know.

    ``acr_values`` lists acceptable levels in order of preference; any of them will do, so
    the least of them is the floor. Unknown values are ignored, as OIDC Core allows.
    """
    asked: list[Level] = [value for value in (acr_values or "").split() if is_level(value)]
    if not asked:
        return None
    return min(asked, key=rank)


def levels_between(low: Level | None, high: Level) -> tuple[Level, ...]:
    """Levels from ``low`` (or L2) up to ``high``, both included."""
    start = rank(low) if low else 0
    return LEVELS[start : rank(high) + 1]
