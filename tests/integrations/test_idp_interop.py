"""The sandbox provider through Authlib's own client, the library the portal signs in with:
if the two disagree about discovery, PKCE, client authentication or the id_token, this fails.
"""

# Authlib ships no type information.
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import httpx2
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.integrations.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    Sandbox,
    choose,
)


def test_authlib_client_signs_in_at_the_level_it_asks_for(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    metadata = http.get(f"{sandbox.issuer}/.well-known/openid-configuration").json()
    verifier = "v" * 64
    with OAuth2Client(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid profile phone",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    ) as client:
        url, state = client.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce="n-0S6_WzA2Mj",
            acr_values="L5",
            prompt="login",
        )
        page = http.get(url)
        back = choose(http, sandbox, page, "sun-li", "L5")
        token = client.fetch_token(
            metadata["token_endpoint"],
            authorization_response=back.headers["location"],
            code_verifier=verifier,
            state=state,
        )
        info = client.get(metadata["userinfo_endpoint"]).json()

    keys = KeySet.import_key_set(http.get(metadata["jwks_uri"]).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    # As Authlib's OpenID client apps do in parse_id_token (at_hash, nonce, aud, iss, exp).
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"values": [metadata["issuer"]]}},
        {"nonce": "n-0S6_WzA2Mj", "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate(leeway=5)
    assert claims["iss"] == sandbox.issuer
    assert claims["acr"] == "L5"
    assert info["enterprise"]["role"] == "legal_representative"
