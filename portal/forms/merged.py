"""The merged form: the applicable sub-items' fields, each once, in the thing's sections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portal.catalog.schema import FormField, Item, Material, OneThing, Section


@dataclass(frozen=True)
class FormSection:
    section: Section
    fields: list[FormField]


@dataclass(frozen=True)
class MergedForm:
    sections: list[FormSection]

    @property
    def fields(self) -> list[FormField]:
        return [f for s in self.sections for f in s.fields]

    def section(self, key: str) -> FormSection | None:
        return next((s for s in self.sections if s.section.key == key), None)


def merged_form(thing: OneThing, items: Sequence[Item]) -> MergedForm:
    wanted = {key for item in items for key in item.fields}
    sections = []
    for section in thing.sections:
        fields = [f for f in thing.fields if f.section == section.key and f.key in wanted]
        if fields:
            sections.append(FormSection(section, fields))
    return MergedForm(sections)


def is_shown(condition_field: str | None, equals: Sequence[str], values: Mapping[str, Any]) -> bool:
    if condition_field is None:
        return True
    value = values.get(condition_field)
    if isinstance(value, list):
        return any(v in equals for v in value)
    return value in equals


def shown(form_field: FormField, values: Mapping[str, Any]) -> bool:
    """A conditional field (``when``) only counts when its condition holds."""
    when = form_field.when
    return is_shown(when.field if when else None, when.equals if when else (), values)


def materials_for(
    thing: OneThing, items: Sequence[Item], values: Mapping[str, Any]
) -> list[Material]:
    """一套材料: every material any applicable item needs, once, in the guide's order."""
    wanted = {key for item in items for key in item.materials}
    return [
        m
        for m in thing.materials
        if m.key in wanted
        and is_shown(m.when.field if m.when else None, m.when.equals if m.when else (), values)
    ]


def items_needing(material_key: str, items: Sequence[Item]) -> list[Item]:
    return [item for item in items if material_key in item.materials]
