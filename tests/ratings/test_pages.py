"""Rating through the pages, on the real app and database: once per application and rater,
a bad rating needs a reason (and loses nothing typed), nobody rates someone else's
application, a sub-item only after its result, and the rating goes out through the outbox."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.auth.helpers import sign_in
from tests.conftest import csrf_token_from
from tests.ratings.helpers import application, person_id, ratings_of, sent, stranger
from tests.ratings.test_contract import problems


def _signed_in(client: TestClient, app: Starlette) -> int:
    sign_in(client, "li-na", "L3")
    return person_id(client, app, "li-na")


def _post(client: TestClient, path: str, data: dict[str, object]) -> object:
    token = csrf_token_from(client.get(path).text)
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def test_the_form_preselects_no_level(client: TestClient, app: Starlette) -> None:
    public_id = application(client, app, _signed_in(client, app))
    page = client.get(f"/applications/{public_id}/rate")
    assert page.status_code == 200
    radios = re.findall(r'<input type="radio" name="level"[^>]*>', page.text)
    assert len(radios) == 5
    assert not any("checked" in radio for radio in radios)


def test_one_rating_per_application_and_rater(client: TestClient, app: Starlette) -> None:
    public_id = application(client, app, _signed_in(client, app))
    path = f"/applications/{public_id}/rate"
    answer = _post(client, path, {"level": "5", "indicators_good": ["efficiency", "usability"]})
    assert answer.headers["location"].endswith("?done=rated")  # type: ignore[attr-defined]
    again = _post(client, path, {"level": "1", "reasons": "slow"})
    assert again.headers["location"].endswith("?done=already_rated")  # type: ignore[attr-defined]
    [rating] = ratings_of(client, app, public_id)
    assert (rating.level, rating.indicators, rating.item_key) == (
        5,
        ["efficiency", "usability"],
        "",
    )
    [envelope] = sent(client, app, public_id, "intake.rate")
    assert envelope["path"] == f"/applications/{public_id}/ratings"
    body = envelope["body"]
    assert (body["level"], body["item_key"], body["reasons"]) == ("very_satisfied", None, [])
    assert body["rater"]["name"] and body["channel"] == "online"
    assert problems("RatingRequest", body) == []  # what the portal sends is the contract's
    shown = client.get(f"/applications/{public_id}").text
    assert "感谢您的评价" not in shown and "非常满意" in shown


def test_a_bad_rating_without_a_reason_is_refused_and_nothing_typed_is_lost(
    client: TestClient, app: Starlette
) -> None:
    public_id = application(client, app, _signed_in(client, app))
    path = f"/applications/{public_id}/rate"
    refused = _post(client, path, {"level": "2", "comment": "等了很久才有结果", "anonymous": "yes"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    text = refused.text  # type: ignore[attr-defined]
    assert "请至少选择一项原因" in text
    assert "等了很久才有结果" in text
    assert re.search(r'value="2" id="level-2" checked', text)
    assert re.search(r'name="anonymous" value="yes" checked', text)
    assert ratings_of(client, app, public_id) == []
    other = _post(client, path, {"level": "1", "reasons": "other"})
    assert "请写明原因" in other.text  # type: ignore[attr-defined]
    done = _post(client, path, {"level": "2", "reasons": ["slow", "hard_to_use"], "comment": "慢"})
    assert done.status_code == 303  # type: ignore[attr-defined]
    [rating] = ratings_of(client, app, public_id)
    assert (rating.level, rating.reasons, rating.comment) == (
        2,
        ["slow", "hard_to_use"],
        {"text": "慢"},
    )
    assert rating.due_at is not None  # a bad rating has a rectification deadline


def test_no_level_is_refused(client: TestClient, app: Starlette) -> None:
    public_id = application(client, app, _signed_in(client, app))
    refused = _post(client, f"/applications/{public_id}/rate", {"comment": "还行"})
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "请选择您的满意程度" in refused.text  # type: ignore[attr-defined]


def test_a_person_cannot_rate_someone_elses_application(client: TestClient, app: Starlette) -> None:
    _signed_in(client, app)
    public_id = application(client, app, stranger(client, app))
    assert client.get(f"/applications/{public_id}/rate").status_code == 404
    token = csrf_token_from(client.get("/profile").text)
    posted = client.post(
        f"/applications/{public_id}/rate",
        data={"csrf_token": token, "level": "1", "reasons": "slow"},
        follow_redirects=False,
    )
    assert posted.status_code == 404
    assert ratings_of(client, app, public_id) == []


def test_a_sub_item_is_rated_after_its_result_only(client: TestClient, app: Starlette) -> None:
    public_id = application(client, app, _signed_in(client, app), status="in_progress")
    assert client.get(f"/applications/{public_id}/rate").status_code == 409  # not concluded
    assert client.get(f"/applications/{public_id}/items/household/rate").status_code == 409
    assert client.get(f"/applications/{public_id}/items/nothing/rate").status_code == 404
    path = f"/applications/{public_id}/items/birth_certificate/rate"
    assert _post(client, path, {"level": "4"}).status_code == 303  # type: ignore[attr-defined]
    [rating] = ratings_of(client, app, public_id)
    assert (rating.item_key, rating.department) == ("birth_certificate", "health")
    page = client.get(f"/applications/{public_id}").text
    assert f"/applications/{public_id}/rate" not in page  # the whole: not yet
    assert "满意" in page


def test_the_public_figures_pages_render(client: TestClient) -> None:
    index = client.get("/ratings")
    assert index.status_code == 200 and "/ratings/things/newborn" in index.text
    page = client.get("/ratings/things/newborn")
    assert page.status_code == 200
    assert client.get("/ratings/departments/health").status_code == 200
    assert client.get("/ratings/things/nothing").status_code == 404
