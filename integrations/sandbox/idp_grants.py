"""The sandbox's policy on top of Authlib's authorization code grant and its OpenID
Connect extension: what is stored for a code, PKCE with S256 for every client (Authlib's
``CodeChallenge(required=True)`` forces it on public clients only), the ``openid`` scope,
and which claims each scope releases in the id_token and at the userinfo endpoint.
"""

# Authlib ships no type information; its classes are subclassed as they are meant to be.
# mypy: disable-error-code="import-untyped, misc, no-any-return"

from __future__ import annotations

from typing import Any, ClassVar

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.grants.util import is_openid_scope
from joserfc.jwk import RSAKey

from integrations.sandbox.idp_models import (
    CODE_LIFETIME,
    IdpStore,
    IssuedCode,
    RegisteredClient,
    SignIn,
)
from integrations.sandbox.idp_request import StarletteOAuth2Request


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    @property
    def store(self) -> IdpStore:
        return self.server.store

    def validate_authorization_request(self) -> str:
        redirect_uri = super().validate_authorization_request()
        if not is_openid_scope(self.request.scope):
            raise InvalidScopeError("The 'openid' scope is required.", redirect_uri=redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: StarletteOAuth2Request) -> None:
        data = request.payload.data
        self.store.save_code(
            IssuedCode(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                sign_in=request.user,
                expires_at=self.store.clock() + CODE_LIFETIME,
            )
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        return self.store.take_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing left to delete: ``take_code`` removed the code when it was presented."""

    def authenticate_user(self, authorization_code: IssuedCode) -> SignIn:
        return authorization_code.sign_in


class S256Required(CodeChallenge):
    """PKCE for every client, S256 only (RFC 9700 2.1.1), whatever the client's type."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE requires 'code_challenge_method=S256'.")
        super().validate_code_challenge(grant, redirect_uri)


def claims_for(sign_in: SignIn, scope: str, *, userinfo: bool) -> dict[str, Any]:
    """The claims one scope releases. The id_token carries ``sub`` and ``name``; the userinfo
    response adds the identity-document claims, the level and the enterprise and roles."""
    person, scopes = sign_in.person, scope.split()
    claims: dict[str, Any] = {"sub": person.sub}
    if "profile" in scopes:
        claims["name"] = person.name
    if not userinfo:
        return claims
    claims["acr"] = sign_in.acr
    if "profile" in scopes:
        claims["id_number"] = person.id_number
        claims["roles"] = list(person.roles)
        if person.enterprise is not None:
            claims["enterprise"] = person.enterprise.as_claim()
    if "phone" in scopes:
        claims["phone_number"] = person.phone_number
    return claims


class IdToken(OpenIDCode):
    def __init__(self, store: IdpStore) -> None:
        super().__init__(require_nonce=False)
        self.store = store

    def resolve_client_private_key(self, client: RegisteredClient) -> RSAKey:
        return self.store.key

    def get_client_algorithm(self, client: RegisteredClient) -> str:
        return "RS256"

    def get_encode_header(self, client: RegisteredClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(self.store.key.kid)}

    def get_client_claims(self, client: RegisteredClient) -> dict[str, Any]:
        return {"iss": self.store.issuer, "aud": client.client_id}

    def exists_nonce(self, nonce: str, request: StarletteOAuth2Request) -> bool:
        return self.store.nonce_seen(request.payload.client_id, nonce)

    def generate_user_info(self, user: SignIn, scope: str) -> dict[str, Any]:
        return claims_for(user, scope, userinfo=False)
