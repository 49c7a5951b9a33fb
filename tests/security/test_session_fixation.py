"""Session fixation: a session token planted before sign-in is worth nothing after it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.auth.helpers import sign_in


def test_a_planted_pre_sign_in_token_does_not_become_signed_in(app: Starlette) -> None:
    with (
        TestClient(app, base_url="http://testserver") as attacker,
        TestClient(app, base_url="http://testserver") as victim,
    ):
        attacker.get("/auth/login?next=/", follow_redirects=False)  # a pre-sign-in session
        cookie = next(c for c in attacker.cookies.jar if c.name == "session")
        planted = cookie.value
        # Planted in the victim's browser (say, through a cookie-setting subdomain bug).
        victim.cookies.set("session", planted, domain=cookie.domain, path=cookie.path)
        sign_in(victim, "li-na", "L3")
        assert victim.cookies.get("session") != planted
        assert victim.get("/profile", follow_redirects=False).status_code == 200

        refused = attacker.get("/profile", follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/auth/login")
