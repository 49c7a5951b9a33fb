from pathlib import Path

import pytest

from portal.settings import Settings, documented_settings

SECRETS = {
    "PORTAL_SECRET_KEY": "k",
    "PORTAL_DATA_KEY": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE=",
    "PORTAL_OIDC_CLIENT_SECRET": "s",
    "PORTAL_WECHAT_SECRET": "w",
    "PORTAL_INTEGRATIONS_API_KEY": "i",
    "PORTAL_INTAKE_CLIENT_SECRET": "c",
    "PORTAL_INTAKE_WEBHOOK_SECRET": "whsec_a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE=",
}
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "default", "doc"), documented_settings())
def test_every_setting_is_documented_in_the_readme(name: str, default: object, doc: str) -> None:
    assert f"`{name}`" in README, f"{name} is missing from the README's configuration table"


def test_values_are_cast_from_the_environment() -> None:
    settings = Settings.from_env({"PORTAL_PORT": "9001", "PORTAL_DEMO": "false", **SECRETS})
    assert settings.port == 9001 and settings.demo is False


@pytest.mark.parametrize(("key", "value"), [("PORTAL_PORT", "eighty"), ("PORTAL_DEMO", "maybe")])
def test_bad_values_say_which_setting(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        Settings.from_env({key: value, "PORTAL_SECRET_KEY": "k"})


@pytest.mark.parametrize(
    "name",
    [
        "PORTAL_SECRET_KEY",
        "PORTAL_DATA_KEY",
        "PORTAL_OIDC_CLIENT_SECRET",
        "PORTAL_WECHAT_SECRET",
        "PORTAL_INTEGRATIONS_API_KEY",
        "PORTAL_INTAKE_CLIENT_SECRET",
        "PORTAL_INTAKE_WEBHOOK_SECRET",
    ],
)
def test_secrets_are_required_outside_the_demo(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({"PORTAL_DEMO": "0", **{k: v for k, v in SECRETS.items() if k != name}})


def test_https_is_decided_by_the_base_url() -> None:
    assert Settings.from_env(
        {"PORTAL_BASE_URL": "https://x.example", "PORTAL_SECRET_KEY": "k"}
    ).https


def test_base_url_follows_the_port_served_unless_set() -> None:
    assert Settings.from_env({"PORTAL_PORT": "8124"}).base_url == "http://127.0.0.1:8124"
    custom = Settings.from_env({"PORTAL_PORT": "8124", "PORTAL_BASE_URL": "https://x.example"})
    assert custom.base_url == "https://x.example"


def test_numbers_are_cast_and_bad_ones_named() -> None:
    assert Settings.from_env({"PORTAL_SANDBOX_DAY_SECONDS": "0.5"}).sandbox_day_seconds == 0.5
    with pytest.raises(ValueError, match="PORTAL_SANDBOX_DAY_SECONDS"):
        Settings.from_env({"PORTAL_SANDBOX_DAY_SECONDS": "fast"})


def test_intake_endpoints_derive_from_the_api_base() -> None:
    settings = Settings.from_env({"PORTAL_INTAKE_API_BASE": "https://gov.example/intake/v1/"})
    assert settings.intake_api_url == "https://gov.example/intake/v1"
    assert settings.intake_token_endpoint == "https://gov.example/intake/oauth2/token"
    rotated = Settings.from_env({"PORTAL_INTAKE_WEBHOOK_SECRET": "whsec_a whsec_b"})
    assert rotated.intake_webhook_secrets == ("whsec_a", "whsec_b")


def test_the_event_loop_is_pythons_own_unless_uvloop_is_asked_for() -> None:
    assert Settings().event_loop == "asyncio"
    assert Settings.from_env({"PORTAL_EVENT_LOOP": "uvloop"}).event_loop == "uvloop"
    with pytest.raises(ValueError, match="PORTAL_EVENT_LOOP"):
        Settings.from_env({"PORTAL_EVENT_LOOP": "tokio"})


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_portal_serve_runs_on_the_chosen_event_loop(
    loop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal import server

    ran: dict[str, object] = {}
    monkeypatch.setenv("PORTAL_EVENT_LOOP", loop)
    monkeypatch.setattr(server.uvicorn, "run", lambda *args, **kwargs: ran.update(kwargs))
    assert server.serve() == 0
    assert ran["loop"] == loop
