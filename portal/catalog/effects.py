"""Reform-effect figures (改革成效), computed from the catalog data and nothing else.

Before: a person applies for every sub-item separately, one after another. After: one merged
form, one set of materials, one submission, sub-items approved in parallel wherever the
prerequisite graph allows. Seed 002 sets the targets compared against here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from portal.catalog.schema import OneThing

# Seed 002: ≥50% of form information generated, ≥60% fewer materials, ≥70% shorter time
# limits, ≥80% fewer steps.
TARGETS = {"fields": 0.50, "materials": 0.60, "days": 0.70, "steps": 0.80}


@dataclass(frozen=True)
class Effect:
    fields_before: int
    fields_after: int
    fields_prefilled: int
    materials_before: int
    materials_after: int
    materials_replaced: int
    steps_before: int
    steps_after: int
    days_before: int
    days_after: int

    @property
    def fields_generated(self) -> float | None:
        """Share of the merged form's fields filled in for the user."""
        return _share(self.fields_prefilled, self.fields_after)

    @property
    def materials_cut(self) -> float | None:
        return _cut(self.materials_before, self.materials_after)

    @property
    def steps_cut(self) -> float | None:
        return _cut(self.steps_before, self.steps_after)

    @property
    def days_cut(self) -> float | None:
        return _cut(self.days_before, self.days_after)

    def figure(self, name: str) -> float | None:
        value: float | None = {
            "fields": self.fields_generated,
            "materials": self.materials_cut,
            "days": self.days_cut,
            "steps": self.steps_cut,
        }[name]
        return value

    def meets(self, name: str) -> bool | None:
        value = self.figure(name)
        return None if value is None else value >= TARGETS[name] - 1e-9


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _cut(before: int, after: int) -> float | None:
    return 1 - after / before if before else None


def effect_of(thing: OneThing) -> Effect:
    fields = {f.key: f for f in thing.fields}
    materials = {m.key: m for m in thing.materials}
    used_fields = {key for item in thing.items for key in item.fields}
    used_materials = {key for item in thing.items for key in item.materials}
    return Effect(
        fields_before=sum(len(item.fields) for item in thing.items),
        fields_after=len(used_fields),
        fields_prefilled=sum(1 for key in used_fields if fields[key].prefill),
        materials_before=sum(len(item.materials) for item in thing.items),
        materials_after=sum(1 for key in used_materials if not materials[key].license_type),
        materials_replaced=sum(1 for key in used_materials if materials[key].license_type),
        steps_before=len(thing.items),
        steps_after=1,
        days_before=sum(item.promised_days for item in thing.items),
        days_after=critical_path_days(thing),
    )


def critical_path_days(thing: OneThing) -> int:
    """Longest chain of promised days through the prerequisite graph (parallel approval)."""
    items = {item.key: item for item in thing.items}

    @cache
    def finish(key: str) -> int:
        item = items[key]
        return item.promised_days + max((finish(r) for r in item.requires), default=0)

    return max(finish(key) for key in items)


def total_effect(effects: Iterable[Effect]) -> Effect:
    effects = list(effects)
    return Effect(
        **{name: sum(getattr(e, name) for e in effects) for name in Effect.__dataclass_fields__}
    )
