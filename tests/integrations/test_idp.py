"""The sandbox identity provider, over real HTTP, as a relying party sees it."""

# Authlib ships no type information.
# mypy: disable-error-code="import-untyped"

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urljoin

import httpx2
import pytest
from authlib.oidc import discovery, rpinitiated
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from integrations.sandbox.idp_models import CODE_LIFETIME
from tests.integrations.helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    LOGGED_OUT_URI,
    REDIRECT_URI,
    Attempt,
    Sandbox,
    choose,
    exchange,
    get_code,
    hidden_fields,
    query_of,
    radio_values,
)


def verified_claims(http: httpx2.Client, sandbox: Sandbox, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(http.get(f"{sandbox.issuer}/jwks").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": sandbox.issuer},
        aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True},
        iat={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def sign_in(
    http: httpx2.Client, sandbox: Sandbox, person: str = "zhang-wei", level: str = "L4"
) -> tuple[Attempt, dict[str, Any]]:
    attempt = Attempt()
    response = exchange(
        http, sandbox, get_code(http, sandbox, attempt, person, level), attempt.verifier
    )
    assert response.status_code == 200, response.text
    return attempt, response.json()


def userinfo(http: httpx2.Client, sandbox: Sandbox, access_token: str) -> httpx2.Response:
    return http.get(
        f"{sandbox.issuer}/userinfo", headers={"authorization": f"Bearer {access_token}"}
    )


def test_discovery_document(http: httpx2.Client, sandbox: Sandbox) -> None:
    document = http.get(f"{sandbox.issuer}/.well-known/openid-configuration").json()

    metadata = discovery.OpenIDProviderMetadata(document)
    metadata.validate(metadata_classes=[rpinitiated.OpenIDProviderMetadata])
    assert document["issuer"] == sandbox.issuer
    for name, path in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
        ("end_session_endpoint", "/end-session"),
    ]:
        assert document[name] == sandbox.issuer + path
    assert document["response_types_supported"] == ["code"]
    assert document["subject_types_supported"] == ["public"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert document["scopes_supported"] == ["openid", "profile", "phone"]
    assert document["acr_values_supported"] == ["L2", "L3", "L4", "L5"]
    assert {"acr", "id_number", "phone_number", "enterprise", "roles"} <= set(
        document["claims_supported"]
    )


def test_jwks_publishes_one_rs256_public_key(http: httpx2.Client, sandbox: Sandbox) -> None:
    (key,) = http.get(f"{sandbox.issuer}/jwks").json()["keys"]

    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key["kid"]
    assert "d" not in key and "p" not in key  # nothing private


def test_code_flow_with_pkce_and_basic_auth(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt, "zhang-wei", "L4")
    started = int(time.time())

    response = exchange(http, sandbox, code, attempt.verifier)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    claims = verified_claims(http, sandbox, tokens["id_token"])
    assert claims["sub"] == "zhang-wei"
    assert claims["name"] == "张伟"
    assert claims["nonce"] == attempt.nonce
    assert claims["acr"] == "L4"
    assert abs(claims["auth_time"] - started) <= 5
    assert claims["exp"] > claims["iat"]
    info = userinfo(http, sandbox, tokens["access_token"])
    assert info.status_code == 200
    assert info.json() == {
        "sub": "zhang-wei",
        "name": "张伟",
        "id_number": "410711199203140316",
        "phone_number": "13837310521",
        "acr": "L4",
        "roles": [],
    }


def test_client_secret_post(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)

    response = http.post(
        f"{sandbox.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": attempt.verifier,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code == 200, response.text


def test_wrong_client_secret_is_refused(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)

    response = http.post(
        f"{sandbox.issuer}/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=(CLIENT_ID, "not-the-secret"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_wrong_pkce_verifier_is_refused(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)

    response = exchange(http, sandbox, code, Attempt().verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_is_single_use_and_replay_revokes_its_tokens(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)
    first = exchange(http, sandbox, code, attempt.verifier)
    assert first.status_code == 200

    second = exchange(http, sandbox, code, attempt.verifier)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert userinfo(http, sandbox, first.json()["access_token"]).status_code == 401


def test_code_expires_after_sixty_seconds(
    http: httpx2.Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)
    later = time.time() + CODE_LIFETIME + 1
    monkeypatch.setattr(sandbox.idp_store, "clock", lambda: later)

    response = exchange(http, sandbox, code, attempt.verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    attempt = Attempt()
    code = get_code(http, sandbox, attempt)

    response = http.post(
        f"{sandbox.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI + "/other",
            "code_verifier": attempt.verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"scope": "profile phone"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_invalid_requests_go_back_to_a_registered_client(
    http: httpx2.Client, sandbox: Sandbox, overrides: dict[str, str | None], error: str
) -> None:
    attempt = Attempt()

    response = http.get(f"{sandbox.issuer}/authorize", params=attempt.params(**overrides))

    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT_URI + "?")
    query = query_of(response)
    assert query["error"] == error
    assert query["state"] == attempt.state


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://evil.example/auth/callback"},
        {"redirect_uri": REDIRECT_URI + "/"},
        {"redirect_uri": None},
        {"client_id": "someone-else"},
        {"client_id": None},
    ],
)
def test_untrusted_client_or_redirect_uri_is_never_redirected(
    http: httpx2.Client, sandbox: Sandbox, overrides: dict[str, str | None]
) -> None:
    attempt = Attempt()

    response = http.get(f"{sandbox.issuer}/authorize", params=attempt.params(**overrides))

    assert response.status_code in (400, 401)
    assert "location" not in response.headers
    assert "登录请求无效" in response.text


def test_acr_values_sets_the_floor(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    page = http.get(
        f"{sandbox.issuer}/authorize", params=attempt.params(acr_values="L4", prompt="login")
    )
    assert radio_values(page.text, "level") == ["L4", "L5"]

    too_low = choose(http, sandbox, page, "zhang-wei", "L3")
    assert too_low.status_code == 422
    assert "location" not in too_low.headers
    assert "至少 L4" in too_low.text
    # The page keeps the request, so the person can try again from it.
    retried = choose(http, sandbox, too_low, "zhang-wei", "L4")
    assert retried.status_code == 302

    tokens = exchange(http, sandbox, query_of(retried)["code"], attempt.verifier).json()
    assert verified_claims(http, sandbox, tokens["id_token"])["acr"] == "L4"


def test_a_person_cannot_exceed_what_they_can_reach(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    page = http.get(f"{sandbox.issuer}/authorize", params=attempt.params(acr_values="L4"))

    below_floor = choose(http, sandbox, page, "chen-jing", "L4")  # reaches L3 only
    above_max = choose(http, sandbox, page, "test-user", "L5")  # reaches L2 only

    for response in (below_floor, above_max):
        assert response.status_code == 422
        assert "location" not in response.headers
    assert "达不到应用要求的 L4" in below_floor.text
    assert "最高只能达到 L2" in above_max.text


def test_cancel_goes_back_with_access_denied(http: httpx2.Client, sandbox: Sandbox) -> None:
    attempt = Attempt()
    page = http.get(f"{sandbox.issuer}/authorize", params=attempt.params())
    form = dict(hidden_fields(page.text))

    response = http.post(f"{sandbox.issuer}/authorize", data={**form, "decision": "deny"})

    assert response.status_code == 302
    assert query_of(response)["error"] == "access_denied"
    assert query_of(response)["state"] == attempt.state


def test_legal_representative_carries_the_enterprise_claim(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    _, tokens = sign_in(http, sandbox, "sun-li", "L5")

    info = userinfo(http, sandbox, tokens["access_token"]).json()

    assert info["acr"] == "L5"
    assert info["enterprise"] == {
        "uscc": "91410700MA45RT3K8A",
        "name": "新乡市牧野区好味道餐饮有限公司",
        "role": "legal_representative",
    }


def test_staff_roles_and_no_enterprise_for_an_agent(http: httpx2.Client, sandbox: Sandbox) -> None:
    _, assistant = sign_in(http, sandbox, "zheng-hong")
    _, agent = sign_in(http, sandbox, "wu-lei")

    assert userinfo(http, sandbox, assistant["access_token"]).json()["roles"] == ["帮办员"]
    assert "enterprise" not in userinfo(http, sandbox, agent["access_token"]).json()


def test_userinfo_needs_a_valid_bearer_token(http: httpx2.Client, sandbox: Sandbox) -> None:
    missing = http.get(f"{sandbox.issuer}/userinfo")
    invalid = userinfo(http, sandbox, "not-a-token")

    assert missing.status_code == 401
    assert invalid.status_code == 401
    assert invalid.headers["www-authenticate"].startswith("Bearer")


def end_session(http: httpx2.Client, sandbox: Sandbox, **params: str) -> httpx2.Response:
    return http.get(f"{sandbox.issuer}/end-session", params=params)


def test_end_session_redirects_to_a_registered_uri_with_state(
    http: httpx2.Client, sandbox: Sandbox
) -> None:
    _, tokens = sign_in(http, sandbox)

    response = end_session(
        http,
        sandbox,
        id_token_hint=tokens["id_token"],
        post_logout_redirect_uri=LOGGED_OUT_URI,
        state="bye",
    )

    assert response.status_code == 302
    assert response.headers["location"] == f"{LOGGED_OUT_URI}?state=bye"
    assert userinfo(http, sandbox, tokens["access_token"]).status_code == 401


def test_end_session_never_redirects_elsewhere(http: httpx2.Client, sandbox: Sandbox) -> None:
    _, tokens = sign_in(http, sandbox)
    foreign_key = RSAKey.generate_key(2048, auto_kid=True)
    forged = jwt.encode(
        {"alg": "RS256", "kid": foreign_key.kid},
        {"iss": sandbox.issuer, "aud": CLIENT_ID, "sub": "zhang-wei"},
        foreign_key,
    )
    elsewhere = jwt.encode(  # our key, another issuer's claims
        {"alg": "RS256", "kid": sandbox.idp_store.key.kid},
        {"iss": "https://idp.example", "aud": CLIENT_ID, "sub": "zhang-wei"},
        sandbox.idp_store.key,
    )

    for params in [
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": REDIRECT_URI},
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example"},
        {"id_token_hint": forged, "post_logout_redirect_uri": LOGGED_OUT_URI},
        {"id_token_hint": elsewhere, "post_logout_redirect_uri": LOGGED_OUT_URI},
        {"id_token_hint": "garbage", "post_logout_redirect_uri": LOGGED_OUT_URI},
        {"post_logout_redirect_uri": LOGGED_OUT_URI},
        {},
    ]:
        response = end_session(http, sandbox, **params)
        assert response.status_code == 200, params
        assert "您已退出" in response.text


def test_pages_obey_the_portal_csp(http: httpx2.Client, sandbox: Sandbox) -> None:
    page = http.get(f"{sandbox.issuer}/authorize", params=Attempt().params())

    assert "<script" not in page.text
    assert "<style" not in page.text and " style=" not in page.text
    href = re.search(r'<link rel="stylesheet" href="([^"]+)">', page.text)
    assert href is not None and href[1] == "/sandbox/idp/sandbox.css"
    stylesheet = http.get(urljoin(sandbox.url, href[1]))
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
