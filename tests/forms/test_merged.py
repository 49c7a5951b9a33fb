from portal.catalog.loader import load_catalog
from portal.forms.applicability import applicable_items, next_question
from portal.forms.merged import materials_for, merged_form

NEWBORN = load_catalog(only=["newborn"]).things["newborn"]


def test_answers_select_the_optional_items() -> None:
    none = applicable_items(
        NEWBORN, {"settle_here": "no", "maternity_paid": "no", "parenting": "no"}
    )
    assert [i.key for i in none] == ["birth_certificate", "vaccination_certificate"]
    all_ = applicable_items(
        NEWBORN, {"settle_here": "yes", "maternity_paid": "yes", "parenting": "yes"}
    )
    assert len(all_) == 7


def test_next_question_walks_the_situations_in_order() -> None:
    assert next_question(NEWBORN, {}).key == "settle_here"  # type: ignore[union-attr]
    assert (
        next_question(NEWBORN, {"settle_here": "no", "maternity_paid": "no", "parenting": "no"})
        is None
    )


def test_each_field_once_across_items_in_section_order() -> None:
    items = applicable_items(
        NEWBORN, {"settle_here": "yes", "maternity_paid": "yes", "parenting": "yes"}
    )
    form = merged_form(NEWBORN, items)
    keys = [f.key for f in form.fields]
    assert len(keys) == len(set(keys)) == 20
    assert [s.section.key for s in form.sections] == [
        "child",
        "parents",
        "household",
        "money",
        "contact",
    ]


def test_materials_are_deduplicated() -> None:
    items = applicable_items(
        NEWBORN, {"settle_here": "yes", "maternity_paid": "yes", "parenting": "yes"}
    )
    materials = materials_for(NEWBORN, items, {})
    assert sum(len(i.materials) for i in items) == 10
    assert len(materials) == len({m.key for m in materials}) == 7
