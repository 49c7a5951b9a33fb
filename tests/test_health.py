from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings


def test_healthz_reports_the_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_healthz_fails_when_the_database_is_unreachable(settings: Settings) -> None:
    broken = Settings(
        **{
            **settings.__dict__,
            "database_url": "sqlite+aiosqlite:////nonexistent-dir/x/portal.sqlite3",
        }
    )
    with TestClient(create_app(broken)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_metrics_count_requests_by_endpoint(client: TestClient) -> None:
    client.get("/things/newborn")
    body = client.get("/metrics").text
    assert 'portal_http_requests_total{endpoint="guide",method="GET",status="200"}' in body
    assert "portal_http_request_duration_seconds_bucket" in body
