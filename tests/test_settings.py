from pathlib import Path

import pytest

from portal.settings import Settings, documented_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "default", "doc"), documented_settings())
def test_every_setting_is_documented_in_the_readme(name: str, default: object, doc: str) -> None:
    assert f"`{name}`" in README, f"{name} is missing from the README's configuration table"


def test_values_are_cast_from_the_environment() -> None:
    settings = Settings.from_env(
        {"PORTAL_PORT": "9001", "PORTAL_DEMO": "false", "PORTAL_SECRET_KEY": "k"}
    )
    assert settings.port == 9001 and settings.demo is False


@pytest.mark.parametrize(("key", "value"), [("PORTAL_PORT", "eighty"), ("PORTAL_DEMO", "maybe")])
def test_bad_values_say_which_setting(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        Settings.from_env({key: value, "PORTAL_SECRET_KEY": "k"})


def test_a_secret_key_is_required_outside_the_demo() -> None:
    with pytest.raises(ValueError, match="PORTAL_SECRET_KEY"):
        Settings.from_env({"PORTAL_DEMO": "0"})


def test_https_is_decided_by_the_base_url() -> None:
    assert Settings.from_env(
        {"PORTAL_BASE_URL": "https://x.example", "PORTAL_SECRET_KEY": "k"}
    ).https
