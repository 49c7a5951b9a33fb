"""The OIDC client of the unified identity provider, built on Authlib's Starlette client.

Authlib does discovery, PKCE (S256), state and nonce (kept in the server-side session), and
validates the id_token (JWKS signature, iss, aud, exp, nonce); we add the assurance level
and the claims we need from userinfo.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth

from integrations.tls import shared_context
from portal.settings import Settings

PROVIDER = "identity"


def make_oauth(settings: Settings) -> OAuth:
    oauth = OAuth()
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{settings.oidc_issuer_url}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid profile phone",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "timeout": 10,
            # Authlib opens an HTTP client per call (authorize, token, JWKS, userinfo): one
            # TLS context for all, not a CA bundle loaded each time (docs/load.md).
            "verify": shared_context(),
        },
    )
    return oauth


def client(oauth: OAuth) -> Any:
    return oauth.create_client(PROVIDER)
