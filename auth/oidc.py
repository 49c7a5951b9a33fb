"""The OIDC client of the unified identity provider, built on Authlib's Starlette client.

Authlib does discovery, PKCE (S256), state and nonce (kept in the server-side session), and
validates the id_token (JWKS signature, iss, aud, exp, nonce); we add the assurance level
and the claims we need from userinfo.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.starlette_client import OAuth

from integrations.keepalive import KeepAliveTransport
from portal.settings import Settings

PROVIDER = "identity"


def make_oauth(settings: Settings, transport: KeepAliveTransport | None = None) -> OAuth:
    """``transport``: the keep-alive pool Authlib's per-call clients share (the app opens
    and closes it with its lifespan); without it, one connection per call."""
    oauth = OAuth()
    transport = transport or KeepAliveTransport(settings.oidc_issuer_url)
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
            # Authlib opens an HTTP client per call (token, userinfo, discovery, JWKS): they
            # share this transport's keep-alive connections and its one TLS context, not a
            # connection and a CA bundle each (docs/load.md).
            "transport": transport,
        },
    )
    return oauth


def client(oauth: OAuth) -> Any:
    return oauth.create_client(PROVIDER)
