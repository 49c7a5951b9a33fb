"""docs/intake-api.yaml stays a valid OpenAPI 3.1 document; the rating schemas' examples
match their schemas; and what both sides really send — the portal's rating body, the sandbox
platform's ratings and ``rating.*`` events — matches the contract."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from integrations.sandbox.intake_rating_records import RatingRecord
from portal.settings import PROJECT_ROOT

SPEC = PROJECT_ROOT / "docs" / "intake-api.yaml"
RATING_SCHEMAS = (
    "RatingRequest",
    "RectificationRatingRequest",
    "Rating",
    *(
        f"Rating{name}Event"
        for name in ("Verified", "RectificationPlanned", "Rectified", "Explained", "Reviewed")
    ),
    "RatingClosedEvent",
)


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


def validator(name: str) -> Draft202012Validator:
    registry: Registry = Registry().with_resource(
        "urn:intake", Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"urn:intake#/components/schemas/{name}"}, registry=registry
    )


def problems(name: str, instance: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator(name).iter_errors(instance)]


def test_the_contract_is_valid_openapi() -> None:
    validate(spec())  # type: ignore[arg-type]


@pytest.mark.parametrize("name", RATING_SCHEMAS)
def test_each_example_matches_its_schema(name: str) -> None:
    schema = spec()["components"]["schemas"][name]
    examples = [*schema.get("examples", []), *([schema["example"]] if "example" in schema else [])]
    assert examples, f"{name} has no example"
    for example in examples:
        assert problems(name, example) == []


def test_every_rating_event_is_a_documented_webhook() -> None:
    hooks = spec()["webhooks"]
    for kind in ("verified", "rectification_planned", "rectified", "explained", "reviewed"):
        assert f"rating.{kind}" in hooks
    assert "rating.closed" in hooks


def test_a_schema_check_that_can_fail() -> None:
    assert problems("RatingRequest", {"rating_id": "x", "level": "great"}) != []


def test_the_sandbox_platforms_rating_and_events_match_the_contract() -> None:
    record = RatingRecord(
        rating_id="R7dK2pQ9xLm4sV1nB0cTgw",
        application_id="Qm3xT8vN1cKpR7sW0aLd4g",
        item_key=None,
        level="very_dissatisfied",
        indicators=[],
        reasons=["slow", "other"],
        comment="太慢",
        rater={"name": "李娜", "id_number": "410711199203140316"},
        rated_at="2026-12-07T09:58:31+08:00",
        received_at=datetime(2026, 12, 7, 1, 58, 33, tzinfo=UTC),
        department_name="新乡市卫生健康委员会",
    )
    assert problems("Rating", record.to_json()) == []
    record.sequence, record.state = 2, "rectifying"
    record.events = [
        {
            "sequence": 1,
            "kind": "verified",
            "occurred_at": "2026-12-07T10:12:00+08:00",
            "by": "新乡市卫生健康委员会",
            "note": "已回访",
        },
        {
            "sequence": 2,
            "kind": "rectification_planned",
            "occurred_at": "2026-12-07T15:40:00+08:00",
            "by": "新乡市卫生健康委员会",
            "note": None,
            "planned_due_at": "2026-12-28T17:00:00+08:00",
        },
    ]
    data = {"one_thing": "newborn", "occurred_at": "2026-12-07T15:40:00+08:00"} | record.to_json()
    event = {"type": "rating.rectification_planned", "timestamp": data["occurred_at"], "data": data}
    assert problems("RatingRectificationPlannedEvent", event) == []
    assert "rater" not in data and "李娜" not in str(data)
