from pathlib import Path

import pytest

from portal.cli import main


def test_catalog_check_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["catalog", "check", "--dir", str(Path(__file__).parent / "catalog" / "fixture")]) == 0
    )
    out = capsys.readouterr().out
    assert "fixture" in out and "60%" in out and "44%!" in out
    assert out.strip().endswith("catalog check: 1 one-things, 3 sub-items, OK")


def test_catalog_check_fails_with_named_problems(
    catalog_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = catalog_copy / "things" / "newborn.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("theme: birth", "theme: births"), encoding="utf-8"
    )
    assert main(["catalog", "check", "--dir", str(catalog_copy)]) == 1
    err = capsys.readouterr().err
    assert "newborn.yaml: theme: unknown theme 'births'" in err
    assert "catalog check: 1 problem(s)" in err


def test_start_up_refuses_a_broken_catalog(catalog_copy: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from portal.app import create_app
    from portal.catalog.loader import CatalogError
    from portal.settings import Settings

    (catalog_copy / "things" / "newborn.yaml").write_text("code: [", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"newborn\.yaml: line 1"):
        create_app(Settings(**{**settings.__dict__, "catalog_dir": catalog_copy}))


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
