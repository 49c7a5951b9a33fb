"""The shape the national rules fix (国办发〔2019〕51号, GB/T 39734-2020): five levels, the
indicators of an online service, and the checklist of reasons a bad rating must pick from.

Levels are stored as 5 (非常满意) … 1 (非常不满意); the contract names them by code. Words
shown to people live in templates/ratings/_words.html (gettext)."""

from __future__ import annotations

LEVELS = {
    5: "very_satisfied",
    4: "satisfied",
    3: "basically_satisfied",
    2: "dissatisfied",
    1: "very_dissatisfied",
}
BY_CODE = {code: level for level, code in LEVELS.items()}
BAD = frozenset({1, 2})
SATISFIED = frozenset({3, 4, 5})

# GB/T 39734-2020, online service: 整体满意度, 办事效率, 办事指南精确度, 办事便捷度, 平台操作性.
INDICATORS = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")
# What a bad rating must name at least one of; ``other`` needs the free text.
REASONS = (
    "slow",
    "guide_inaccurate",
    "repeated_materials",
    "hard_to_use",
    "result",
    "no_answer",
    "other",
)

# The rectification (整改) the citizen rates when it is reported done.
FIX_LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")

COMMENT_LIMIT = 500


def group(level: int) -> str:
    """Which indicators a level shows: what went well, what could be better, what went wrong."""
    if level in BAD:
        return "bad"
    return "good" if level >= 4 else "fair"
