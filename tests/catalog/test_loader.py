from pathlib import Path

import pytest

from portal.catalog.loader import CatalogError, load_catalog


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    return caught.value.problems


def test_the_real_catalog_loads() -> None:
    catalog = load_catalog()
    assert "newborn" in catalog.things


def test_invalid_yaml_names_file_and_line(catalog_copy: Path) -> None:
    _break(catalog_copy / "things" / "newborn.yaml", "audience: person", "audience: [person")
    [problem] = _problems(catalog_copy)
    assert problem.startswith("newborn.yaml: line ")
    assert "not valid YAML" in problem


def test_schema_error_names_the_path_inside_the_file(catalog_copy: Path) -> None:
    _break(catalog_copy / "things" / "newborn.yaml", "promised_days: 3\n", "promised_days: soon\n")
    problems = _problems(catalog_copy)
    assert any(p.startswith("newborn.yaml: items[1].promised_days:") for p in problems), problems


def test_missing_translation_of_a_name_is_an_error(catalog_copy: Path) -> None:
    _break(catalog_copy / "things" / "newborn.yaml", "  ug: يېڭى تۇغۇلغان بوۋاق «بىر ئىش»\n", "")
    assert "newborn.yaml: name.ug: Field required" in _problems(catalog_copy)


def test_unknown_material_reference(catalog_copy: Path) -> None:
    _break(
        catalog_copy / "things" / "newborn.yaml",
        "materials: [parents_id_cards]",
        "materials: [parents_id_card]",
    )
    assert "newborn.yaml: items[0].materials: unknown material 'parents_id_card'" in _problems(
        catalog_copy
    )


def test_prerequisite_cycle(catalog_copy: Path) -> None:
    path = catalog_copy / "things" / "newborn.yaml"
    # birth_certificate ← hukou_registration ← birth_certificate
    _break(
        path,
        "    materials: [parents_id_cards]\n",
        "    materials: [parents_id_cards]\n    requires: [hukou_registration]\n",
    )
    problems = _problems(catalog_copy)
    assert any("prerequisites form a cycle" in p for p in problems), problems


def test_implementation_code_must_belong_to_the_department(catalog_copy: Path) -> None:
    _break(
        catalog_copy / "things" / "newborn.yaml",
        '"11410700716272175U200117004000001"',
        '"11410700846996761G200117004000001"',
    )
    assert (
        "newborn.yaml: items[0].implementation_code: must start with the department's USCC"
        in _problems(catalog_copy)
    )


def test_optional_item_must_be_selectable(catalog_copy: Path) -> None:
    _break(
        catalog_copy / "things" / "newborn.yaml",
        "        selects: [maternity_reimbursement]\n",
        "",
    )
    problems = _problems(catalog_copy)
    assert any("no situation answer selects 'maternity_reimbursement'" in p for p in problems)


def test_file_name_must_equal_code(catalog_copy: Path) -> None:
    (catalog_copy / "things" / "newborn.yaml").rename(catalog_copy / "things" / "baby.yaml")
    assert "baby.yaml: code: 'newborn' must equal the file name" in _problems(catalog_copy)


def test_license_prefill_must_name_a_known_field(catalog_copy: Path) -> None:
    _break(
        catalog_copy / "things" / "newborn.yaml",
        "prefill: license.birth_medical_certificate.birth_date",
        "prefill: license.birth_medical_certificate.birthday",
    )
    problems = _problems(catalog_copy)
    assert any("has no field 'birthday'" in p for p in problems), problems
