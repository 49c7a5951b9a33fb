from starlette.testclient import TestClient

from tests.conftest import csrf_token_from


def test_post_without_token_is_refused_with_a_message(client: TestClient) -> None:
    client.get("/")
    response = client.post("/preferences", data={"elder": "1", "next": "/"})
    assert response.status_code == 403
    assert "请重新提交" in response.text
    assert "elder=1" not in response.headers.get("set-cookie", "")


def test_post_with_token_works(client: TestClient) -> None:
    token = csrf_token_from(client.get("/").text)
    response = client.post(
        "/preferences",
        data={"csrf_token": token, "elder": "1", "next": "/things/newborn"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/things/newborn"
    page = client.get("/things/newborn").text
    assert '<html lang="zh-Hans" dir="ltr" class="elder fs-100">' in page


def test_token_in_htmx_header_works(client: TestClient) -> None:
    token = csrf_token_from(client.get("/").text)
    response = client.post(
        "/preferences", data={"elder": "0"}, headers={"X-CSRF-Token": token}, follow_redirects=False
    )
    assert response.status_code == 303


def test_tokens_are_masked_differently_each_time(client: TestClient) -> None:
    first = csrf_token_from(client.get("/").text)
    second = csrf_token_from(client.get("/").text)
    assert first != second
    for token in (first, second):
        response = client.post("/preferences", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303


def test_token_from_another_browser_is_refused(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    other = TestClient(app, base_url="http://testserver")
    foreign = csrf_token_from(other.get("/").text)
    client.get("/")
    response = client.post("/preferences", data={"csrf_token": foreign})
    assert response.status_code == 403


def test_cross_origin_post_is_refused(client: TestClient) -> None:
    token = csrf_token_from(client.get("/").text)
    response = client.post(
        "/preferences", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "其他网站" in response.text


def test_open_redirect_is_not_possible(client: TestClient) -> None:
    token = csrf_token_from(client.get("/").text)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/preferences", data={"csrf_token": token, "next": target}, follow_redirects=False
        )
        assert response.headers["location"] == "/"
