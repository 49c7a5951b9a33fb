from starlette.testclient import TestClient

from portal.app import create_app
from portal.settings import Settings


def test_headers_on_pages(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers
    assert len(response.headers["x-request-id"]) >= 8


def test_hsts_and_secure_cookies_under_https(settings: Settings) -> None:
    https_settings = Settings(**{**settings.__dict__, "base_url": "https://portal.example"})
    with TestClient(create_app(https_settings), base_url="https://testserver") as client:
        response = client.get("/?lang=en")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        cookies = response.headers.get_list("set-cookie")
        assert any(c.startswith("__Host-csrftoken=") and "Secure" in c for c in cookies)
        assert all("Secure" in c for c in cookies)


def test_static_files_are_cached_when_versioned(client: TestClient) -> None:
    html = client.get("/").text
    css = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert "?v=" in css
    response = client.get(css)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert client.get("/static/css/portal.css").headers["cache-control"] == "no-cache"


def test_request_id_is_echoed_when_well_formed(client: TestClient) -> None:
    assert (
        client.get("/", headers={"X-Request-ID": "abc12345-x"}).headers["x-request-id"]
        == "abc12345-x"
    )
    assert client.get("/", headers={"X-Request-ID": "bad id!"}).headers["x-request-id"] != "bad id!"
