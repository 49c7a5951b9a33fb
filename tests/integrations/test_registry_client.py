"""The portal's enterprise registry client against the sandbox registry, over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx2
import pytest
from stdnum.cn import uscc

from integrations.registry import EnterpriseRecord, EnterpriseRegistry, RegistryError
from integrations.sandbox.people import HAOWEIDAO, PEOPLE
from integrations.sandbox.registry import ENTERPRISES
from tests.integrations.helpers import API_KEY, Sandbox, free_port


@pytest.fixture
def registry(sandbox: Sandbox) -> EnterpriseRegistry:
    return EnterpriseRegistry(sandbox.registry_api, API_KEY)


def test_lookup_the_demo_company(registry: EnterpriseRegistry) -> None:
    record = asyncio.run(registry.lookup(HAOWEIDAO.uscc))

    assert isinstance(record, EnterpriseRecord)
    assert (record.uscc, record.name, record.status) == (HAOWEIDAO.uscc, HAOWEIDAO.name, "active")
    representative = next(p for p in PEOPLE if p.enterprise == HAOWEIDAO)
    assert record.legal_representative == representative.name == "孙丽"
    assert record.established_on == date(2021, 6, 18)
    assert "餐饮服务" in record.business_scope


def test_every_record_is_a_plausible_xinxiang_company(registry: EnterpriseRegistry) -> None:
    records = [asyncio.run(registry.lookup(item.uscc)) for item in ENTERPRISES]

    assert len(records) == 3
    for record in records:
        assert record is not None
        assert uscc.is_valid(record.uscc) and record.uscc[2:6] == "4107"
        assert record.name.startswith("新乡市") and record.address.startswith("河南省新乡市")
    assert {record.status for record in records if record} == {"active", "cancelled"}


def test_an_unregistered_code_is_none(registry: EnterpriseRegistry, http: httpx2.Client) -> None:
    unregistered = "91410700MA45RT3K9" + uscc.calc_check_digit("91410700MA45RT3K9")
    assert uscc.is_valid(unregistered)

    answer = http.get(
        f"{registry.base_url}/enterprises/{unregistered}",
        headers={"authorization": f"Bearer {API_KEY}"},
    )

    assert asyncio.run(registry.lookup(unregistered)) is None
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_a_malformed_code_is_an_error(registry: EnterpriseRegistry) -> None:
    with pytest.raises(RegistryError) as raised:
        asyncio.run(registry.lookup("91410700MA45RT3K8B"))

    assert raised.value.status == 400


def test_wrong_key_is_refused(sandbox: Sandbox, http: httpx2.Client) -> None:
    wrong = EnterpriseRegistry(sandbox.registry_api, "not-the-key")

    with pytest.raises(RegistryError) as raised:
        asyncio.run(wrong.lookup(HAOWEIDAO.uscc))
    bare = http.get(f"{sandbox.registry_api}/enterprises/{HAOWEIDAO.uscc}")

    assert raised.value.status == 401
    assert (bare.status_code, bare.json()["error"]) == (401, "unauthorized")


def test_unreachable_registry() -> None:
    registry = EnterpriseRegistry(f"http://127.0.0.1:{free_port()}/registry/api/v1", API_KEY)

    with pytest.raises(RegistryError) as raised:
        asyncio.run(registry.lookup(HAOWEIDAO.uscc))

    assert raised.value.status is None
