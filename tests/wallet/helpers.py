"""Signing in and posting forms for the wallet's tests."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.conftest import csrf_token_from


def post(client: TestClient, path: str, page: str = "/wallet", **data: Any) -> Any:
    token = csrf_token_from(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def verify_path(card_html: str) -> str:
    """The verification link the card's QR code carries."""
    match = re.search(r"http://testserver(/verify/[A-Za-z0-9_.\-]+)", card_html)
    assert match, "the card shows no verification code"
    return match.group(1)
