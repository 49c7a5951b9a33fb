"""Which sub-items apply, given the answers to the situation questions (情形)."""

from __future__ import annotations

from collections.abc import Mapping

from portal.catalog.schema import Item, OneThing, Situation


def applicable_items(thing: OneThing, answers: Mapping[str, str]) -> list[Item]:
    selected = {
        key
        for situation in thing.situations
        for answer in situation.answers
        if answers.get(situation.key) == answer.key
        for key in answer.selects
    }
    return [item for item in thing.items if item.always or item.key in selected]


def next_question(thing: OneThing, answers: Mapping[str, str]) -> Situation | None:
    return next((s for s in thing.situations if s.key not in answers), None)


def valid_answer(situation: Situation, answer: str) -> bool:
    return any(a.key == answer for a in situation.answers)
