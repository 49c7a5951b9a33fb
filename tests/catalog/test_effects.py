from pathlib import Path

import pytest

from portal.catalog.effects import TARGETS, critical_path_days, effect_of, total_effect
from portal.catalog.loader import load_catalog

FIXTURE = Path(__file__).parent / "fixture"


@pytest.fixture(scope="module")
def thing():  # type: ignore[no-untyped-def]
    return load_catalog(FIXTURE).things["fixture"]


def test_figures_equal_hand_computed_values(thing) -> None:  # type: ignore[no-untyped-def]
    effect = effect_of(thing)
    assert (effect.fields_before, effect.fields_after, effect.fields_prefilled) == (7, 5, 3)
    assert (effect.materials_before, effect.materials_after, effect.materials_replaced) == (5, 2, 1)
    assert (effect.steps_before, effect.steps_after) == (3, 1)
    assert (effect.days_before, effect.days_after) == (18, 10)
    assert effect.fields_generated == pytest.approx(0.6)
    assert effect.materials_cut == pytest.approx(0.6)
    assert effect.steps_cut == pytest.approx(2 / 3)
    assert effect.days_cut == pytest.approx(1 - 10 / 18)


def test_targets_are_seed_002s() -> None:
    assert TARGETS == {"fields": 0.5, "materials": 0.6, "days": 0.7, "steps": 0.8}


def test_meets_compares_against_the_target(thing) -> None:  # type: ignore[no-untyped-def]
    effect = effect_of(thing)
    assert effect.meets("fields") is True
    assert effect.meets("materials") is True  # exactly 60% meets 60%
    assert effect.meets("days") is False
    assert effect.meets("steps") is False


def test_critical_path_follows_prerequisites(thing) -> None:  # type: ignore[no-untyped-def]
    longer_chain = thing.model_copy(
        update={
            "items": [
                thing.items[0],
                thing.items[1].model_copy(update={"promised_days": 8}),
                thing.items[2],
            ]
        }
    )
    assert critical_path_days(longer_chain) == 13  # a (5) then b (8) beats c (10)


def test_changing_the_data_changes_the_figures(thing) -> None:  # type: ignore[no-untyped-def]
    fields = [f.model_copy(update={"prefill": None}) for f in thing.fields]
    assert effect_of(thing.model_copy(update={"fields": fields})).fields_generated == 0


def test_total_sums_before_and_after(thing) -> None:  # type: ignore[no-untyped-def]
    total = total_effect([effect_of(thing), effect_of(thing)])
    assert (total.days_before, total.days_after, total.steps_before) == (36, 20, 6)
    assert total.days_cut == pytest.approx(1 - 10 / 18)


def test_no_materials_means_no_figure(thing) -> None:  # type: ignore[no-untyped-def]
    items = [i.model_copy(update={"materials": []}) for i in thing.items]
    bare = thing.model_copy(update={"items": items, "materials": []})
    assert effect_of(bare).materials_cut is None
    assert effect_of(bare).meets("materials") is None
