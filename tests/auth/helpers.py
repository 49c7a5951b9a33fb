"""Sign in through the real flow: portal → sandbox identity provider (real HTTP) → portal."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import httpx2
from starlette.testclient import TestClient

from tests.integrations.helpers import hidden_fields


def start(client: TestClient, next_path: str = "/profile", acr: str | None = None) -> str:
    params = {"next": next_path, **({"acr": acr} if acr else {})}
    response = client.get(f"/auth/login?{urlencode(params)}", follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


def choose_at_provider(
    authorize_url: str, person: str, level: str, decision: str = "allow"
) -> httpx2.Response:
    with httpx2.Client() as http:
        page = http.get(authorize_url)
        assert page.status_code == 200, page.text
        form = {
            **dict(hidden_fields(page.text)),
            "person": person,
            "level": level,
            "decision": decision,
        }
        action = authorize_url.split("?")[0]
        return http.post(action, data=form)


def callback_path(provider_response: httpx2.Response) -> str:
    assert provider_response.status_code == 302, provider_response.text
    location = urlsplit(provider_response.headers["location"])
    assert location.path == "/auth/callback"
    return f"{location.path}?{location.query}"


def sign_in(
    client: TestClient,
    person: str = "zhang-wei",
    level: str = "L3",
    next_path: str = "/profile",
    acr: str | None = None,
) -> str:
    """Signs in and returns where the portal sent the person afterwards."""
    authorize = start(client, next_path, acr)
    back = callback_path(choose_at_provider(authorize, person, level))
    response = client.get(back, follow_redirects=False)
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location
