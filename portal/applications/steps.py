"""The order of the steps of a draft, and where a draft stands."""

from __future__ import annotations

from portal.applications.models import Draft
from portal.catalog.schema import OneThing
from portal.forms.applicability import applicable_items, next_question
from portal.forms.merged import merged_form


def sections_of(draft: Draft, thing: OneThing) -> list[str]:
    return [
        s.section.key for s in merged_form(thing, applicable_items(thing, draft.answers)).sections
    ]


def url(draft: Draft, step: str) -> str:
    return f"/drafts/{draft.public_id}/{step}"


def resume_url(draft: Draft, thing: OneThing) -> str:
    """Where a person who comes back to this draft continues."""
    question = next_question(thing, draft.answers)
    if question is not None:
        return url(draft, f"q/{question.key}")
    if not draft.prefilled and not draft.values:
        return url(draft, "result")
    return url(draft, "continue")


def after_question(draft: Draft, thing: OneThing) -> str:
    question = next_question(thing, draft.answers)
    return url(draft, f"q/{question.key}") if question else url(draft, "result")


def after_section(draft: Draft, thing: OneThing, section: str) -> str:
    keys = sections_of(draft, thing)
    position = keys.index(section) if section in keys else len(keys) - 1
    return (
        url(draft, f"s/{keys[position + 1]}")
        if position + 1 < len(keys)
        else url(draft, "materials")
    )


def first_section(draft: Draft, thing: OneThing) -> str:
    keys = sections_of(draft, thing)
    return url(draft, f"s/{keys[0]}") if keys else url(draft, "materials")
