"""A stand-in for the enterprise registry (企业登记信息): ``GET /api/v1/enterprises/{uscc}``
with a bearer API key, answering the registered facts of three Xinxiang companies.

好味道 is the company 孙丽 (people.py) represents; its e-business licence in the license
library is built from the same record, so the two systems agree as the real ones should.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from stdnum.cn import uscc

from integrations.sandbox.bearer import BearerKeyMiddleware, http_exception, json_error
from integrations.sandbox.people import HAOWEIDAO


@dataclass(frozen=True)
class RegisteredEnterprise:
    uscc: str
    name: str
    legal_representative: str
    address: str
    type: str
    registered_capital: str
    business_scope: str
    established_on: date
    status: str = "active"  # active 存续, revoked 吊销, cancelled 注销

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"established_on": self.established_on.isoformat()}


HAOWEIDAO_RECORD = RegisteredEnterprise(
    uscc=HAOWEIDAO.uscc,
    name=HAOWEIDAO.name,
    legal_representative="孙丽",
    address="河南省新乡市牧野区建设东路 118 号 1 层 102 室",
    type="有限责任公司（自然人独资）",
    registered_capital="50 万元人民币",
    business_scope="餐饮服务；食品销售（仅销售预包装食品）。（依法须经批准的项目，"
    "经相关部门批准后方可开展经营活动）",
    established_on=date(2021, 6, 18),
)

ENTERPRISES: tuple[RegisteredEnterprise, ...] = (
    HAOWEIDAO_RECORD,
    RegisteredEnterprise(
        uscc="91410703MA47K2QX0P",
        name="新乡市卫滨区恒达物流有限公司",
        legal_representative="高建军",
        address="河南省新乡市卫滨区南环路 66 号",
        type="有限责任公司（自然人投资或控股）",
        registered_capital="300 万元人民币",
        business_scope="道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理。",
        established_on=date(2019, 9, 3),
    ),
    RegisteredEnterprise(
        uscc="91410702MA44F7N13P",
        name="新乡市红旗区鑫源商贸有限公司",
        legal_representative="马玉芳",
        address="河南省新乡市红旗区人民东路 209 号",
        type="有限责任公司（自然人独资）",
        registered_capital="100 万元人民币",
        business_scope="日用百货、文具用品、五金产品销售。",
        established_on=date(2017, 11, 27),
        status="cancelled",
    ),
)

_BY_USCC = {enterprise.uscc: enterprise for enterprise in ENTERPRISES}


def enterprise_by_uscc(code: str) -> RegisteredEnterprise | None:
    return _BY_USCC.get(code)


async def enterprise(request: Request) -> Response:
    code = str(request.path_params["uscc"]).upper()
    if not uscc.is_valid(code):
        return json_error(400, f"{code!r} is not a unified social credit code")
    if (record := enterprise_by_uscc(code)) is None:
        return json_error(404, f"no enterprise is registered as {code}")
    return JSONResponse(record.to_json())


def create_registry_app(api_key: str) -> Starlette:
    """The registry, its API under ``/api/v1`` behind ``api_key``."""
    api = Starlette(
        routes=[Route("/enterprises/{uscc}", enterprise)],
        middleware=[Middleware(BearerKeyMiddleware, api_key=api_key, realm="registry")],
        exception_handlers={HTTPException: http_exception},
    )
    return Starlette(routes=[Mount("/api/v1", api)])
