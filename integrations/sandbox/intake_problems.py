"""RFC 9457 problem details, the only shape of a 4xx or 5xx of the intake API
(docs/intake-api.md §9). ``type`` is the contract's own URI in every environment, so a client
compares it whole; ``instance`` is the path after the base URL, as in the contract."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

PROBLEM_BASE = "https://intake.platform.example/problems/"
PROBLEM_JSON = "application/problem+json"
TITLES = {
    "idempotency-key-missing": "Idempotency-Key header missing",
    "idempotency-key-invalid": "Idempotency-Key header malformed",
    "malformed-request": "Body is not a JSON object",
    "unauthorized": "Access token missing, expired or invalid",
    "forbidden": "Not allowed for this client",
    "not-found": "No such application",
    "method-not-allowed": "Method not allowed",
    "idempotency-key-in-use": "A request with this Idempotency-Key is still in progress",
    "payload-too-large": "Body too large",
    "unsupported-media-type": "Body must be application/json",
    "idempotency-key-reused": "Idempotency-Key reused with a different request",
    "validation-failed": "The request does not meet the contract",
    "application-exists": "This application was already submitted",
    "notice-not-open": "The notice is not open",
    "not-withdrawable": "These items can no longer be withdrawn",
    "server-error": "Internal error",
    "unavailable": "Temporarily unavailable",
}


def request_id(request: Request) -> str:
    """The client's ``X-Request-Id``, or one made for this request (kept on the scope)."""
    state = request.scope.setdefault("state", {})
    if "intake_request_id" not in state:
        given = request.headers.get("x-request-id", "")[:64]
        state["intake_request_id"] = given or f"req_{secrets.token_urlsafe(9)}"
    return str(state["intake_request_id"])


def instance(request: Request) -> str:
    """The request path after ``/v1`` (or after the intake mount for other paths)."""
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return path.removeprefix("/v1") or "/"


def json_response(
    request: Request,
    body: Any,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    all_headers = {"x-request-id": request_id(request), **(headers or {})}
    return Response(content, status_code, all_headers, media_type=media_type)


def problem(
    request: Request,
    status: int,
    kind: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body = {
        "type": PROBLEM_BASE + kind,
        "title": TITLES.get(kind, kind),
        "status": status,
        "detail": detail,
        "instance": instance(request),
        "request_id": request_id(request),
        **extensions,
    }
    return json_response(request, body, status, headers, media_type=PROBLEM_JSON)


def unavailable(request: Request, detail: str) -> Response:
    return problem(request, 503, "unavailable", detail, headers={"retry-after": "1"})


async def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404 and 405 as problems too."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    kind = {404: "not-found", 405: "method-not-allowed"}.get(status, "server-error")
    return problem(request, status, kind, f"No route for {request.method} {instance(request)}.")
