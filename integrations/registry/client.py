"""The portal's client for the enterprise registry (企业登记信息), contract in
docs/licenses.md: one record per unified social credit code, or nothing.

``base_url`` is the API root (``…/registry/api/v1`` on the sandbox); as with the license
library, each call opens its own short-lived HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeGuard, get_args
from urllib.parse import quote

import httpx2

from integrations.tls import shared_context

EnterpriseStatus = Literal["active", "revoked", "cancelled"]  # 存续, 吊销, 注销


@dataclass(frozen=True)
class EnterpriseRecord:
    uscc: str
    name: str
    legal_representative: str
    address: str
    type: str
    registered_capital: str
    business_scope: str
    established_on: date
    status: EnterpriseStatus


class RegistryError(Exception):
    """The registry refused a call, answered off contract, or could not be reached
    (``status`` None). "No such enterprise" is not an error: ``lookup`` returns None."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"enterprise registry {status or 'unreachable'}: {message}")
        self.status = status


class EnterpriseRegistry:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {api_key}", "accept": "application/json"}
        self._timeout = timeout
        self._transport = transport

    async def lookup(self, uscc: str) -> EnterpriseRecord | None:
        url = f"{self.base_url}/enterprises/{quote(uscc, safe='')}"
        try:
            async with httpx2.AsyncClient(
                headers=self._headers,
                timeout=self._timeout,
                transport=self._transport,
                verify=shared_context(),
            ) as http:
                response = await http.get(url)
        except httpx2.HTTPError as exc:
            raise RegistryError(None, str(exc)) from exc
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise RegistryError(response.status_code, response.text[:200])
        try:
            return record_from_json(response.json())
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(response.status_code, f"unexpected answer: {exc!r}") from exc


_TEXTS: tuple[str, ...] = ("uscc", "name", "legal_representative", "address", "type")
_TEXTS += ("registered_capital", "business_scope")


def record_from_json(item: dict[str, Any]) -> EnterpriseRecord:
    status = item["status"]
    if not _is_status(status):
        raise ValueError(f"unexpected status {status!r}")
    values = {key: item[key] for key in _TEXTS}
    if not all(isinstance(value, str) for value in values.values()):
        raise TypeError("every field but established_on and status is a string")
    return EnterpriseRecord(
        **values, established_on=date.fromisoformat(item["established_on"]), status=status
    )


def _is_status(value: object) -> TypeGuard[EnterpriseStatus]:
    return value in get_args(EnterpriseStatus)
