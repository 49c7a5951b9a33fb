"""What the sandbox identity provider remembers: clients, codes, tokens, nonces, its key.

The records implement Authlib's model mixins so that Authlib's grants and endpoints can read
them. Everything lives in this process's memory: the sandbox stands in for one external
system and is never part of the portal's scale-out. Codes and tokens carry absolute expiry
times read from ``IdpStore.clock``, so tests can move time forward without sleeping.
"""

# Authlib ships no type information; its mixins are subclassed as they are meant to be.
# mypy: disable-error-code="import-untyped, misc"

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from joserfc.jwk import KeySet, RSAKey

from integrations.sandbox.levels import Level
from integrations.sandbox.people import DemoPerson

SCOPES = ("openid", "profile", "phone")
CODE_LIFETIME = 60
TOKEN_LIFETIME = 3600


@dataclass(frozen=True)
class SandboxClient:
    """A relying party registered with the sandbox (the portal, or a test)."""

    client_id: str
    client_secret: str
    redirect_uris: Sequence[str]
    post_logout_redirect_uris: Sequence[str] = ()


class RegisteredClient(ClientMixin):
    """A confidential client: code flow only, authenticated by its secret at the token
    endpoint, redirect URIs compared exactly (no prefixes, no defaults)."""

    def __init__(self, client: SandboxClient) -> None:
        self.client_id = client.client_id
        self.client = client
        # Authlib's userinfo and end-session endpoints read these RFC 7591 names.
        self.client_metadata: dict[str, Any] = {
            "redirect_uris": list(client.redirect_uris),
            "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        }

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # OIDC makes redirect_uri mandatory; never guess one.

    def get_allowed_scope(self, scope: str | None) -> str:
        # OIDC Core 3.1.2.1: scope values that are not understood are ignored.
        return " ".join(value for value in (scope or "").split() if value in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.client.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(self.client.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True)
class SignIn:
    """Who signed in, at which level, and when: what a code and its tokens stand for."""

    person: DemoPerson
    acr: Level
    auth_time: int


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    sign_in: SignIn
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.sign_in.auth_time

    def get_acr(self) -> str:
        return self.sign_in.acr


@dataclass
class IssuedToken(TokenMixin):
    access_token: str
    client: RegisteredClient
    scope: str
    sign_in: SignIn
    expires_at: float
    expires_in: int
    clock: Callable[[], float]
    revoked: bool = False

    def check_client(self, client: RegisteredClient) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.clock() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> SignIn:
        return self.sign_in

    def get_client(self) -> RegisteredClient:
        return self.client


def _signing_key() -> RSAKey:
    # A fresh key per start: nothing signed by an earlier run should still verify.
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)


@dataclass
class _Spent:
    forget_at: float
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class IdpStore:
    """The provider's whole state. A code is removed when first presented; a replayed code
    finds only its ``_Spent`` record, and the tokens it bought are revoked (RFC 6749 4.1.2).
    Records are forgotten once nothing they protect can still be used."""

    issuer: str
    clients: dict[str, RegisteredClient]
    key: RSAKey = field(default_factory=_signing_key)
    clock: Callable[[], float] = time.time
    codes: dict[str, IssuedCode] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    _spent: dict[str, _Spent] = field(default_factory=dict)
    _nonces: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def create(cls, issuer: str, clients: Sequence[SandboxClient]) -> IdpStore:
        registered = {client.client_id: RegisteredClient(client) for client in clients}
        return cls(issuer=issuer.rstrip("/"), clients=registered)

    def public_jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.key]).as_dict(private=False))

    def nonce_seen(self, client_id: str, nonce: str) -> bool:
        return (client_id, nonce) in self._nonces

    def save_code(self, code: IssuedCode) -> None:
        self._forget_expired()
        if code.nonce:
            self._nonces[(code.client_id, code.nonce)] = code.expires_at + TOKEN_LIFETIME
        self.codes[code.code] = code

    def take_code(self, code: str, client_id: str) -> IssuedCode | None:
        """Hand out a code once; a second presentation revokes what the first one bought."""
        if spent := self._spent.get(code):
            for access_token in spent.access_tokens:
                if token := self.tokens.get(access_token):
                    token.revoked = True
            return None
        issued = self.codes.pop(code, None)
        if issued is None:
            return None
        self._spent[code] = _Spent(forget_at=issued.expires_at + TOKEN_LIFETIME)
        if issued.client_id != client_id or self.clock() >= issued.expires_at:
            return None
        return issued

    def save_token(self, token: IssuedToken, code: str | None) -> None:
        self.tokens[token.access_token] = token
        if code is not None and (spent := self._spent.get(code)):
            spent.access_tokens.append(token.access_token)

    def revoke(self, client_id: str, sub: str) -> None:
        for token in self.tokens.values():
            if token.client.client_id == client_id and token.sign_in.person.sub == sub:
                token.revoked = True

    def _forget_expired(self) -> None:
        now = self.clock()
        self.codes = {k: v for k, v in self.codes.items() if v.expires_at > now}
        self.tokens = {k: v for k, v in self.tokens.items() if v.expires_at > now}
        self._spent = {k: v for k, v in self._spent.items() if v.forget_at > now}
        self._nonces = {k: v for k, v in self._nonces.items() if v > now}
