"""schemathesis against docs/portal-api.yaml and a real portal on a loopback port: the
machine-facing endpoints never answer 5xx and always answer as described — unsigned (what
anyone on the network can send) and signed with the platform's secret (what a compromised or
buggy platform could send), aimed at a real application so events are really applied."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.core import NotSet
from starlette.testclient import TestClient

from integrations.intake.webhooks import sign
from portal.settings import Settings
from tests.relay.live import Live, apply_newborn, live_portal

API = Path(__file__).resolve().parents[2] / "docs" / "portal-api.yaml"
schema = schemathesis.openapi.from_path(API)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples in CI every time
)


# A schema cannot say "signed with the platform's secret in the last 5 minutes": valid shapes
# from anyone are refused (400 stale, 401 unsigned); test_signed_by_the_platform checks them.
# Methods outside GET/HEAD/OPTIONS/TRACE (QUERY, …) meet the CSRF check before the router and
# get 403, not 405: an unknown method is treated as state-changing on purpose.
NOT_FOR_US = [positive_data_acceptance, unsupported_method]
ANSWER_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


KINDS = list(yaml.safe_load((API.parent / "intake-api.yaml").read_text("utf-8"))["webhooks"])


@pytest.fixture(scope="module")
def live(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("api")
    with live_portal(settings, path, relay_in_process=False) as running:
        yield running


@pytest.fixture(scope="module")
def application_id(live: Live) -> str:
    with TestClient(live.app, base_url=live.url) as citizen:
        return apply_newborn(citizen).rsplit("/", 1)[1]


@schema.parametrize()
@FUZZ
def test_as_anyone_on_the_network(case: Case, live: Live) -> None:
    response = case.call(base_url=live.url, timeout=30)
    assert response.status_code < 500, response.text
    case.validate_response(response, excluded_checks=NOT_FOR_US)


@schema.include(path="/webhooks/intake").parametrize()
@FUZZ
def test_signed_by_the_platform(case: Case, live: Live, application_id: str) -> None:
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        # Aimed at a real application with a real event type, so the event is really applied.
        body["data"]["application_id"] = application_id
        body["type"] = KINDS[zlib.crc32(str(body.get("type")).encode()) % len(KINDS)]
    if isinstance(body, NotSet):
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body, ensure_ascii=False).encode()
    message_id = str((case.headers or {}).get("webhook-id") or "msg_fuzz")
    headers = sign(live.settings.intake_webhook_secret, message_id, datetime.now(UTC), raw)
    response = httpx2.post(
        f"{live.url}/webhooks/intake",
        content=raw,
        headers={**headers, "content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code < 500, response.text
    assert response.status_code in (204, 400), response.text  # signed: never 401
    # The request sent is not the case's (it is signed, and its headers replaced): check the
    # answer against the document, not against what the case expected of its own request.
    case.validate_response(response, checks=ANSWER_CHECKS)


def test_the_signed_examples_reached_the_rules(live: Live) -> None:
    """Runs after the signed fuzzing: some events got past the signature into the sequence
    rule (applied or stale), not only refusals."""
    metrics = httpx2.get(f"{live.url}/metrics", timeout=10).text
    reached = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("portal_webhooks_total")
        and ('outcome="applied"' in line or 'outcome="stale"' in line)
    ]
    assert sum(reached) > 0, metrics


def test_a_method_the_route_lacks_gets_405_with_allow(live: Live) -> None:
    response = httpx2.request("TRACE", f"{live.url}/healthz", timeout=10)
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
