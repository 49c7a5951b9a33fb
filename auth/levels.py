"""Assurance levels of the Guangdong model, ordered; the provider's ``acr`` claim."""

from __future__ import annotations

LEVELS = ("L2", "L3", "L4", "L5")
WECHAT_MAX_LEVEL = "L3"  # a WeChat binding never signs in above L3 without a fresh check


def rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


def at_least(level: str | None, minimum: str) -> bool:
    return rank(level) >= rank(minimum)


def lower(a: str, b: str) -> str:
    return a if rank(a) <= rank(b) else b
