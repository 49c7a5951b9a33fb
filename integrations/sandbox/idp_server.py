"""Authlib's authorization server, wired for Starlette and the sandbox's store: the rest of
what Authlib's ``flask_oauth2`` package does for Flask, plus the userinfo and RP-initiated
logout endpoints.

The protocol rules are Authlib's own (client authentication, codes, PKCE, ``nonce``, the
id_token, bearer tokens, logout hints). Added here: responses are Starlette responses, the
userinfo endpoint is handed its request explicitly, a logout hint must name this issuer,
and logging out revokes the tokens issued to that client for that person.
"""

# Authlib ships no type information; its classes are subclassed as they are meant to be.
# mypy: disable-error-code="import-untyped, misc, no-any-return"

from __future__ import annotations

import json
import secrets
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    OAuth2Error,
    ResourceProtector,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from starlette.responses import Response

from integrations.sandbox.idp_grants import CodeGrant, IdToken, S256Required, claims_for
from integrations.sandbox.idp_models import (
    TOKEN_LIFETIME,
    IdpStore,
    IssuedCode,
    IssuedToken,
    RegisteredClient,
    SignIn,
)
from integrations.sandbox.idp_request import StarletteOAuth2Request


class SandboxAuthorizationServer(AuthorizationServer):
    def __init__(self, store: IdpStore) -> None:
        super().__init__()
        self.store = store
        self.register_token_generator(
            "default", BearerTokenGenerator(_random_token, expires_generator=TOKEN_LIFETIME)
        )

    def query_client(self, client_id: str) -> RegisteredClient | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: StarletteOAuth2Request) -> None:
        code = request.authorization_code
        self.store.save_token(
            IssuedToken(
                access_token=token["access_token"],
                client=request.client,
                scope=token.get("scope", ""),
                sign_in=request.user,
                expires_at=self.store.clock() + token["expires_in"],
                expires_in=token["expires_in"],
                clock=self.store.clock,
            ),
            code.code if isinstance(code, IssuedCode) else None,
        )

    def create_oauth2_request(self, request: StarletteOAuth2Request) -> StarletteOAuth2Request:
        # Starlette reads bodies asynchronously: the caller builds the wrapper beforehand.
        return request

    def handle_response(
        self, status_code: int, payload: Any, headers: list[tuple[str, str]]
    ) -> Response:
        body = json.dumps(payload, ensure_ascii=False) if isinstance(payload, dict) else payload
        return Response(body, status_code=status_code, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for framework signals; nothing listens in the sandbox."""

    # Typed doors into Authlib's untyped entry points, for the routes.

    def authorization_response(
        self, request: StarletteOAuth2Request, grant: CodeGrant, sign_in: SignIn | None
    ) -> Response:
        """Issue the code (or ``access_denied`` when ``sign_in`` is None), back to the client."""
        return self.create_authorization_response(request, grant_user=sign_in, grant=grant)

    def token_response(self, request: StarletteOAuth2Request) -> Response:
        return self.create_token_response(request)

    def userinfo_response(self, request: StarletteOAuth2Request) -> Response:
        return self.create_endpoint_response("userinfo", request)

    def end_session_response(self, validated: EndSessionRequest) -> Response | None:
        """The redirect to a registered ``post_logout_redirect_uri``, or None: no redirect."""
        return self.create_endpoint_response("end_session", validated)

    def error_response(self, error: OAuth2Error) -> Response:
        return self.handle_error_response(None, error)


def _random_token(**_: Any) -> str:
    return secrets.token_urlsafe(32)


class _TokenValidator(BearerTokenValidator):
    def __init__(self, store: IdpStore) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> IssuedToken | None:
        return self.store.tokens.get(token_string)


class UserInfo(UserInfoEndpoint):
    def __init__(self, store: IdpStore) -> None:
        protector = ResourceProtector()
        protector.register_token_validator(_TokenValidator(store))
        super().__init__(resource_protector=protector)

    def __call__(self, request: StarletteOAuth2Request) -> tuple[int, Any, list[tuple[str, str]]]:
        # Authlib's version asks its Flask-style protector for "the current request";
        # Starlette has no such global, so the request is handed over explicitly.
        token: IssuedToken = self.resource_protector.validate_request(["openid"], request)
        return 200, claims_for(token.sign_in, token.scope, userinfo=True), default_json_headers


class EndSession(EndSessionEndpoint):
    def __init__(self, store: IdpStore) -> None:
        super().__init__()
        self.store = store

    def get_server_jwks(self) -> dict[str, Any]:
        return self.store.public_jwks()

    def get_algorithms(self) -> list[str]:
        return ["RS256"]

    def validate_request(self, request: StarletteOAuth2Request) -> EndSessionRequest:
        validated = super().validate_request(request)
        claims = validated.id_token_claims
        if claims is not None and claims.get("iss") != self.store.issuer:
            raise InvalidRequestError("The id_token_hint was not issued by this provider.")
        return validated

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """No browser session to end here; the tokens issued to that client for that person
        stop working, as they would at the real platform."""
        claims, client = end_session_request.id_token_claims, end_session_request.client
        if claims is not None and client is not None:
            self.store.revoke(client.client_id, claims["sub"])


def create_server(store: IdpStore) -> SandboxAuthorizationServer:
    server = SandboxAuthorizationServer(store)
    server.register_grant(CodeGrant, [S256Required(required=True), IdToken(store)])
    server.register_endpoint(UserInfo(store))
    server.register_endpoint(EndSession(store))
    return server
