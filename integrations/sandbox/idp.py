"""The sandbox identity provider: OpenID Connect over HTTP, with the paths of docs/identity.md.

Authlib (``idp_server``, ``idp_grants``) decides every protocol question; this module only
turns Starlette requests into Authlib requests and back, and draws the sign-in page: pick a
demo person and an assurance level, at least the ``acr_values`` asked for and at most what
the person can reach. A request whose client or redirect_uri cannot be trusted is refused
on a page, never redirected (RFC 6749 4.1.2.1); every other error goes back to the client.
"""

# Authlib ships no type information.
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.sandbox import pages
from integrations.sandbox.idp_grants import CodeGrant
from integrations.sandbox.idp_models import SCOPES, IdpStore, SandboxClient, SignIn
from integrations.sandbox.idp_request import StarletteOAuth2Request, read_oauth_request
from integrations.sandbox.idp_server import SandboxAuthorizationServer, create_server
from integrations.sandbox.levels import LEVELS, MEANINGS, Level, is_level, rank
from integrations.sandbox.levels import requested_minimum as minimum_of
from integrations.sandbox.people import PEOPLE, DemoPerson, person_by_sub

# Fields the sign-in page adds to the authorization request it posts back.
PAGE_FIELDS = frozenset({"person", "level", "decision"})
CLAIMS = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash"]
CLAIMS += ["name", "id_number", "phone_number", "enterprise", "roles"]


def discovery_document(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/end-session",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SCOPES),
        "acr_values_supported": list(LEVELS),
        "claims_supported": CLAIMS,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


def _server(request: Request) -> SandboxAuthorizationServer:
    server: SandboxAuthorizationServer = request.app.state.server
    return server


def _refuse(request: Request, error: OAuth2Error) -> Response:
    """Back to the client when Authlib validated where to; otherwise a page, not a redirect."""
    if error.redirect_uri:
        return _server(request).error_response(error)
    context = {"stylesheet": _stylesheet_url(request), "error": error.error}
    context["description"] = error.description
    return pages.render("refused.html", context, status_code=error.status_code)


def _stylesheet_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/sandbox.css"


async def authorize(request: Request) -> Response:
    server = _server(request)
    try:
        oauth_request = await read_oauth_request(request)
        grant = server.get_consent_grant(oauth_request)
    except OAuth2Error as error:
        return _refuse(request, error)
    if request.method == "GET":
        return _sign_in_page(request, oauth_request, grant)
    if oauth_request.form.get("decision") == "deny":
        return server.authorization_response(oauth_request, grant, None)
    sign_in, problem = _choose(oauth_request, request.app.state.store.clock())
    if sign_in is None:
        return _sign_in_page(request, oauth_request, grant, problem=problem)
    return server.authorization_response(oauth_request, grant, sign_in)


def _choose(oauth_request: StarletteOAuth2Request, now: float) -> tuple[SignIn | None, str]:
    """The person and level chosen on the page, or why they cannot sign in."""
    form = oauth_request.form
    person = person_by_sub(form.get("person", ""))
    level = form.get("level")
    minimum = minimum_of(oauth_request.payload.data.get("acr_values"))
    if person is None:
        return None, "请选择以谁的身份登录。"
    if not is_level(level):
        return None, "请选择本次认证等级。"
    if minimum and rank(person.max_level) < rank(minimum):
        return None, f"{person.name}最高只能达到 {person.max_level}，达不到应用要求的 {minimum}。"
    if minimum and rank(level) < rank(minimum):
        return None, f"应用要求认证等级至少 {minimum}，请选择更高的等级。"
    if rank(level) > rank(person.max_level):
        return None, f"{person.name}最高只能达到 {person.max_level}，不能以 {level} 登录。"
    return SignIn(person=person, acr=level, auth_time=int(now)), ""


def _sign_in_page(
    request: Request,
    oauth_request: StarletteOAuth2Request,
    grant: CodeGrant,
    *,
    problem: str = "",
) -> Response:
    minimum = minimum_of(oauth_request.payload.data.get("acr_values"))
    form = oauth_request.form

    def reaches(person: DemoPerson) -> bool:
        return minimum is None or rank(person.max_level) >= rank(minimum)

    default_person = next((p.sub for p in PEOPLE if reaches(p)), PEOPLE[0].sub)
    default_level: Level = minimum or "L4"
    context = {
        "stylesheet": _stylesheet_url(request),
        "action": request.url.path,
        "hidden": [
            (key, value)
            for key, value in oauth_request.payload.data.multi_items()
            if key not in PAGE_FIELDS
        ],
        "client_id": grant.client.client_id,
        "minimum": minimum,
        "people": PEOPLE,
        "reaches": reaches,
        "levels": LEVELS[rank(minimum) :] if minimum else LEVELS,
        "meanings": MEANINGS,
        "chosen_person": form.get("person", default_person),
        "chosen_level": form.get("level", default_level),
        "error": problem,
    }
    return pages.render("authorize.html", context, status_code=422 if problem else 200)


async def token(request: Request) -> Response:
    server = _server(request)
    try:
        oauth_request = await read_oauth_request(request)
    except OAuth2Error as error:
        return server.error_response(error)
    return server.token_response(oauth_request)


async def userinfo(request: Request) -> Response:
    server = _server(request)
    try:
        oauth_request = await read_oauth_request(request)
    except OAuth2Error as error:
        return server.error_response(error)
    return server.userinfo_response(oauth_request)


async def end_session(request: Request) -> Response:
    """RP-initiated logout: redirect only with a valid hint and a registered URI."""
    server = _server(request)
    signed_out = pages.render("signed_out.html", {"stylesheet": _stylesheet_url(request)})
    try:
        oauth_request = await read_oauth_request(request)
        validated = server.validate_endpoint_request("end_session", oauth_request)
    except OAuth2Error:
        return signed_out
    return server.end_session_response(validated) or signed_out


async def discovery(request: Request) -> Response:
    return JSONResponse(request.app.state.discovery)


async def jwks(request: Request) -> Response:
    store: IdpStore = request.app.state.store
    return JSONResponse(store.public_jwks(), headers={"cache-control": "max-age=300"})


async def stylesheet(request: Request) -> Response:
    return pages.stylesheet()


def create_idp_app(issuer: str, clients: Sequence[SandboxClient]) -> Starlette:
    """The provider at ``issuer`` (its public URL, where it is mounted), for ``clients``."""
    store = IdpStore.create(issuer, clients)
    app = Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/userinfo", userinfo, methods=["GET", "POST"]),
            Route("/end-session", end_session, methods=["GET", "POST"]),
            Route("/sandbox.css", stylesheet),
        ]
    )
    app.state.store = store  # tests move its clock; nothing else should touch it
    app.state.server = create_server(store)
    app.state.discovery = discovery_document(store.issuer)
    return app
