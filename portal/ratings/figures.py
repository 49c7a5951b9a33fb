"""The public figures of 好差评, per one-thing and per department (docs/ratings.md):

- ratings per level, and the satisfaction rate: 非常满意 + 满意 + 基本满意 over all ratings;
- the share of bad ratings followed up (回访核实 or any later step; the target is 100%);
- rectifications on time: of the bad ratings whose rectification is done or overdue (those
  explained or reviewed need none), the share rectified by their deadline.

A one-thing's figures count every rating of its applications (the whole and each sub-item);
a department's count the ratings of its sub-items. No rater, comment or application is shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import clock
from portal.ratings.followup import SETTLED
from portal.ratings.levels import BAD, LEVELS, SATISFIED
from portal.ratings.models import Rating


@dataclass(frozen=True)
class Figures:
    per_level: dict[int, int]  # 5 (非常满意) … 1 (非常不满意)
    total: int
    satisfied: int
    bad: int
    followed_up: int
    rectify_counted: int
    rectified_on_time: int

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.total if self.total else None

    @property
    def followup_rate(self) -> float | None:
        return self.followed_up / self.bad if self.bad else None

    @property
    def on_time_rate(self) -> float | None:
        return self.rectified_on_time / self.rectify_counted if self.rectify_counted else None


@dataclass(frozen=True)
class Row:
    level: int
    state: str
    due_at: datetime | None
    followed_up_at: datetime | None
    rectified_at: datetime | None


def compute(rows: Iterable[Row], now: datetime | None = None) -> Figures:
    now = clock.aware(now or clock.now())
    per_level: Counter[int] = Counter()
    followed = counted = on_time = 0
    for row in rows:
        per_level[row.level] += 1
        if row.level not in BAD:
            continue
        followed += row.followed_up_at is not None
        if row.due_at is None:
            continue
        due = clock.aware(row.due_at)
        if row.rectified_at is not None:
            counted += 1
            on_time += clock.aware(row.rectified_at) <= due
        elif row.state not in SETTLED and due < now:
            counted += 1
    return Figures(
        per_level={level: per_level[level] for level in LEVELS},
        total=sum(per_level.values()),
        satisfied=sum(per_level[level] for level in SATISFIED),
        bad=sum(per_level[level] for level in BAD),
        followed_up=followed,
        rectify_counted=counted,
        rectified_on_time=on_time,
    )


async def _rows(db: AsyncSession, where: ColumnElement[bool]) -> list[Row]:
    result = await db.execute(
        select(
            Rating.level, Rating.state, Rating.due_at, Rating.followed_up_at, Rating.rectified_at
        ).where(where)
    )
    return [Row(*row) for row in result.all()]


async def for_thing(db: AsyncSession, code: str, now: datetime | None = None) -> Figures:
    return compute(await _rows(db, Rating.thing_code == code), now)


async def for_department(db: AsyncSession, key: str, now: datetime | None = None) -> Figures:
    return compute(await _rows(db, Rating.department == key), now)


async def totals(db: AsyncSession) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """(ratings, satisfied) per one-thing and per department, for the index page."""
    satisfied = func.sum(case((Rating.level >= min(SATISFIED), 1), else_=0))

    async def grouped(column: Any) -> dict[str, tuple[int, int]]:
        result = await db.execute(
            select(column, func.count(), satisfied).where(column != "").group_by(column)
        )
        return {str(key): (int(n), int(ok or 0)) for key, n, ok in result.all()}

    return await grouped(Rating.thing_code), await grouped(Rating.department)


@dataclass(frozen=True)
class Bar:
    level: int
    value: int
    share: float  # of the largest level, 0–1: the bar's length


def bars(figures: Figures) -> Sequence[Bar]:
    top = max(figures.per_level.values(), default=0) or 1
    return [Bar(level, n, n / top) for level, n in figures.per_level.items()]
