"""Licenses given as application materials go through the wallet's consent and log."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.applications.test_apply_flow import (
    test_newborn_from_questions_to_confirmation as apply_for_newborn,
)


def test_licenses_given_as_materials_are_logged_for_the_holder(
    client: TestClient, app: Starlette
) -> None:
    apply_for_newborn(client, app)  # the mother gives licenses, ticking the consent each time
    log = client.get("/wallet/log").text
    assert "作为申请材料" in log and "事由：办理新生儿出生“一件事”（YJS" in log
    grants = client.get("/wallet/grants").text
    assert "随申请提交" in grants
    again = client.get("/wallet/log").text.count("作为申请材料")
    assert again == log.count("作为申请材料")  # reading the log records nothing
