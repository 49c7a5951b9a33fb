"""Read the catalog YAML, validate it against the schema and across files, and build a Catalog.

A broken file never half-loads: every problem is collected as ``<file>: <path>: <message>``
and raised together as :class:`CatalogError`, so ``portal catalog check`` and start-up both
name exactly what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from portal.catalog.schema import (
    TYPE_CODE_PREFIX,
    Department,
    FieldType,
    FormField,
    LicenseType,
    OneThing,
    Reference,
    Theme,
)

DEFAULT_DIR = Path(__file__).parent


class CatalogError(Exception):
    """The catalog cannot be loaded; ``problems`` lists each one as file: path: message."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Catalog:
    things: dict[str, OneThing]
    departments: dict[str, Department]
    license_types: dict[str, LicenseType]
    themes: dict[str, Theme]
    source_files: dict[str, Path] = field(default_factory=dict)


def load_catalog(directory: Path = DEFAULT_DIR, only: Iterable[str] = ()) -> Catalog:
    """Load and check every one-thing file, or only those whose codes ``only`` names."""
    problems: list[str] = []
    reference = _load_reference(directory / "reference", problems)
    things: dict[str, OneThing] = {}
    files: dict[str, Path] = {}
    wanted = set(only)
    for path in sorted((directory / "things").glob("*.yaml")):
        if wanted and path.stem not in wanted:
            continue
        thing = _parse(path, OneThing, problems)
        if thing is None:
            continue
        if thing.code != path.stem:
            problems.append(f"{path.name}: code: '{thing.code}' must equal the file name")
        if thing.code in things:
            problems.append(f"{path.name}: code: '{thing.code}' is used twice")
        if reference is not None:
            problems.extend(f"{path.name}: {p}" for p in check_thing(thing, reference))
        things[thing.code] = thing
        files[thing.code] = path
    if not things and not problems:
        problems.append(f"{directory / 'things'}: no one-thing files found")
    if problems or reference is None:
        raise CatalogError(problems)
    return Catalog(
        things=things,
        departments={d.key: d for d in reference.departments},
        license_types={lt.key: lt for lt in reference.license_types},
        themes={t.key: t for t in reference.themes},
        source_files=files,
    )


def _load_reference(directory: Path, problems: list[str]) -> Reference | None:
    merged: dict[str, Any] = {}
    for name in ("departments", "license_types", "themes"):
        path = directory / f"{name}.yaml"
        data = _read_yaml(path, problems)
        if isinstance(data, dict):
            merged.update(data)
    try:
        reference = Reference.model_validate(merged)
    except ValidationError as exc:
        problems.extend(f"reference/{p}" for p in _format_errors(exc))
        return None
    for kind, entries in (
        ("departments", reference.departments),
        ("license_types", reference.license_types),
        ("themes", reference.themes),
    ):
        problems.extend(f"reference/{kind}.yaml: {p}" for p in _duplicates(kind, entries))
    return reference


def _parse(path: Path, model: type[OneThing], problems: list[str]) -> OneThing | None:
    data = _read_yaml(path, problems)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{path.name}: {p}" for p in _format_errors(exc))
        return None


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        problems.append(f"{path}: file not found")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        problems.append(f"{path.name}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})")
    return None


def _format_errors(exc: ValidationError) -> Iterator[str]:
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(top)"
        yield f"{_bracket_indexes(location)}: {error['msg']}"


def _bracket_indexes(location: str) -> str:
    """items.2.materials.0 → items[2].materials[0], the way people read paths."""
    out: list[str] = []
    for part in location.split("."):
        if part.isdigit() and out:
            out[-1] += f"[{part}]"
        else:
            out.append(part)
    return ".".join(out)


def _duplicates(kind: str, entries: Iterable[Any]) -> Iterator[str]:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.key in seen:
            yield f"{kind}[{index}].key: '{entry.key}' is used twice"
        seen.add(entry.key)


def check_thing(thing: OneThing, ref: Reference) -> list[str]:
    """Cross-reference checks the schema alone cannot express."""
    departments = {d.key: d for d in ref.departments}
    licenses = {lt.key: lt for lt in ref.license_types}
    themes = {t.key: t for t in ref.themes}
    problems: list[str] = []
    add = problems.append

    theme = themes.get(thing.theme)
    if theme is None:
        add(f"theme: unknown theme '{thing.theme}'")
    elif theme.audience != thing.audience:
        add(f"theme: '{thing.theme}' is for {theme.audience.value}, not {thing.audience.value}")
    if thing.lead_department not in departments:
        add(f"lead_department: unknown department '{thing.lead_department}'")

    for kind, entries in (
        ("sections", thing.sections),
        ("fields", thing.fields),
        ("materials", thing.materials),
        ("items", thing.items),
        ("situations", thing.situations),
    ):
        problems.extend(_duplicates(kind, entries))

    sections = {s.key for s in thing.sections}
    field_keys = {f.key for f in thing.fields}
    for index, form_field in enumerate(thing.fields):
        problems.extend(
            _check_field(f"fields[{index}]", form_field, sections, field_keys, licenses)
        )

    material_keys = {m.key for m in thing.materials}
    for index, material in enumerate(thing.materials):
        where = f"materials[{index}]"
        if material.license_type and material.license_type not in licenses:
            add(f"{where}.license_type: unknown e-license type '{material.license_type}'")
        if material.tolerable and material.commitment is None:
            add(f"{where}.commitment: a tolerable (容缺) material needs the commitment text")
        if material.when and material.when.field not in field_keys:
            add(f"{where}.when.field: unknown field '{material.when.field}'")

    item_keys = {i.key for i in thing.items}
    used_fields: set[str] = set()
    used_materials: set[str] = set()
    for index, item in enumerate(thing.items):
        where = f"items[{index}]"
        department = departments.get(item.department)
        if department is None:
            add(f"{where}.department: unknown department '{item.department}'")
        elif item.implementation_code[:18] != department.uscc:
            add(f"{where}.implementation_code: must start with the department's USCC")
        if not item.basic_code.startswith(TYPE_CODE_PREFIX[item.type]):
            add(
                f"{where}.basic_code: a {item.type.value} item's code starts with "
                f"{TYPE_CODE_PREFIX[item.type]}"
            )
        if item.implementation_code[18:30] != item.basic_code:
            add(f"{where}.implementation_code: characters 19-30 must equal basic_code")
        for co in item.co_departments:
            if co not in departments:
                add(f"{where}.co_departments: unknown department '{co}'")
        for key in item.fields:
            if key not in field_keys:
                add(f"{where}.fields: unknown field '{key}'")
        for key in item.materials:
            if key not in material_keys:
                add(f"{where}.materials: unknown material '{key}'")
        for key in item.requires:
            if key not in item_keys:
                add(f"{where}.requires: unknown item '{key}'")
        if item.result.license_type and item.result.license_type not in licenses:
            add(f"{where}.result.license_type: unknown e-license type '{item.result.license_type}'")
        if item.statutory_days is not None and item.promised_days > item.statutory_days:
            add(f"{where}.promised_days: longer than the statutory limit")
        used_fields.update(item.fields)
        used_materials.update(item.materials)

    selected: set[str] = set()
    for s_index, situation in enumerate(thing.situations):
        for a_index, answer in enumerate(situation.answers):
            for key in answer.selects:
                if key not in item_keys:
                    where = f"situations[{s_index}].answers[{a_index}].selects"
                    add(f"{where}: unknown item '{key}'")
            selected.update(answer.selects)
    for index, item in enumerate(thing.items):
        if not item.always and item.key not in selected:
            add(f"items[{index}].always: false, but no situation answer selects '{item.key}'")

    for key in sorted(field_keys - used_fields):
        add(f"fields: '{key}' is not used by any item")
    for key in sorted(material_keys - used_materials):
        add(f"materials: '{key}' is not used by any item")
    cycle = _find_cycle({i.key: list(i.requires) for i in thing.items})
    if cycle:
        add(f"items: prerequisites form a cycle: {' → '.join(cycle)}")
    return problems


def _check_field(
    where: str,
    form_field: FormField,
    sections: set[str],
    field_keys: set[str],
    licenses: dict[str, LicenseType],
) -> Iterator[str]:
    if form_field.section not in sections:
        yield f"{where}.section: unknown section '{form_field.section}'"
    choice_types = (FieldType.CHOICE, FieldType.MULTI_CHOICE)
    if form_field.type in choice_types and len(form_field.choices) < 2:
        yield f"{where}.choices: a {form_field.type.value} field needs at least two choices"
    if form_field.type == FieldType.GROUP and not form_field.fields:
        yield f"{where}.fields: a group needs sub-fields"
    if form_field.when and form_field.when.field not in field_keys:
        yield f"{where}.when.field: unknown field '{form_field.when.field}'"
    if form_field.prefill and form_field.prefill.startswith("license."):
        parts = form_field.prefill.split(".")
        license_type = licenses.get(parts[1]) if len(parts) == 3 else None
        if license_type is None:
            yield f"{where}.prefill: expected license.<known type>.<field>"
        elif parts[2] not in license_type.fields:
            yield f"{where}.prefill: e-license '{parts[1]}' has no field '{parts[2]}'"
    for index, sub in enumerate(form_field.fields):
        yield from _check_field(
            f"{where}.fields[{index}]",
            sub.model_copy(update={"section": form_field.section}),
            sections,
            field_keys | {s.key for s in form_field.fields},
            licenses,
        )


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt in graph and state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None
