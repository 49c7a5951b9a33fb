"""OAuth 2.0 client credentials for the intake API (docs/intake-api.md §3): ``POST
/oauth2/token`` with HTTP Basic answers an opaque bearer token valid 7200 seconds, kept in
memory; every ``/v1`` call needs it. Token errors follow RFC 6749 §5.2 (plain JSON, not
problems: that endpoint is OAuth's, not the API's).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from integrations.sandbox.intake_models import IntakeClient
from integrations.sandbox.intake_problems import problem
from integrations.sandbox.intake_store import TOKEN_SECONDS, IntakeStore, Token

SCOPES = frozenset({"applications.write", "applications.read"})
NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def _store(request: Request) -> IntakeStore:
    store: IntakeStore = request.app.state.store
    return store


def _oauth_error(error: str, status: int = 400, **headers: str) -> Response:
    return JSONResponse({"error": error}, status, headers={**NO_STORE, **headers})


def _basic_client(request: Request, store: IntakeStore) -> IntakeClient | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = (unquote(part) for part in decoded.partition(":"))
    client = store.clients.get(client_id)
    if client is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
        return None
    return client


async def token(request: Request) -> Response:
    store = _store(request)
    client = _basic_client(request, store)
    if client is None:
        return _oauth_error("invalid_client", 401, www_authenticate='Basic realm="intake"')
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type")
    asked = str(form.get("scope") or " ".join(sorted(SCOPES))).split()
    if not asked or not set(asked) <= SCOPES:
        return _oauth_error("invalid_scope")
    access_token = secrets.token_urlsafe(32)
    expires = time.monotonic() + TOKEN_SECONDS
    store.tokens[access_token] = Token(client, frozenset(asked), expires)
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": " ".join(asked),
    }
    return JSONResponse(body, headers=NO_STORE)


def bearer(request: Request) -> Token | None:
    """The live token the request carries, or None."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    found = _store(request).tokens.get(value.strip())
    if found is None or found.expires_at < time.monotonic():
        return None
    return found


def unauthorized(request: Request) -> Response:
    detail = "The access token is missing, expired or invalid. Get a new token and retry once."
    challenge = 'Bearer realm="intake", error="invalid_token"'
    return problem(request, 401, "unauthorized", detail, headers={"www-authenticate": challenge})


def missing_scope(request: Request, scope: str) -> Response:
    return problem(request, 403, "forbidden", f"The access token lacks the scope {scope}.")
