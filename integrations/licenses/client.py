"""The portal's client for the e-license library (电子证照库), contract in docs/licenses.md.

``base_url`` is the API root (``…/licenses/api/v1`` on the sandbox). Given ``http``, a client
the caller owns (the web app keeps one per process, opened and closed with the app), calls
reuse its keep-alive connections. Without it each call opens its own short-lived HTTP client
(all sharing one TLS context), so one ``LicenseLibrary`` serves any event loop;
``transport`` lets a test run the library in-process (``httpx2.ASGITransport``) instead of
over a socket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import httpx2

from integrations.licenses.models import (
    CodeType,
    Holder,
    Issuer,
    License,
    LicenseSummary,
    Party,
    Verification,
    holder_to_json,
    license_from_json,
    summary_from_json,
    verification_from_json,
)
from integrations.tls import shared_context

T = TypeVar("T")


class LicenseLibraryError(Exception):
    """The library refused a call (``status`` and its JSON ``error`` code), answered off
    contract, or could not be reached (``status`` None)."""

    def __init__(self, status: int | None, error: str, message: str) -> None:
        super().__init__(f"e-license library {status or 'unreachable'} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class LicenseNotFound(LicenseLibraryError):
    """No license has that id (HTTP 404)."""


class LicenseLibrary:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        http: httpx2.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {api_key}", "accept": "application/json"}
        self._timeout = timeout
        self._transport = transport
        self._http = http

    async def list_for_holder(self, code: str, code_type: CodeType) -> list[LicenseSummary]:
        """Licenses held by ``code``, and those naming it as a party (a parent)."""
        path = f"/holders/{quote(code, safe='')}/licenses"
        items = await self._json("GET", path, params={"holder_type": code_type})
        return _parsed(lambda: [summary_from_json(item) for item in items])

    async def get(self, license_id: str) -> License:
        item = await self._json("GET", f"/licenses/{quote(license_id, safe='')}")
        return _parsed(lambda: license_from_json(item))

    async def file(self, license_id: str) -> tuple[bytes, str]:
        """The rendered license and its content type (``image/png``)."""
        response = await self._send("GET", f"/licenses/{quote(license_id, safe='')}/file")
        return response.content, response.headers.get("content-type", "application/octet-stream")

    async def verify(self, identifier: str) -> Verification:
        item = await self._json("GET", "/verify", params={"identifier": identifier})
        return _parsed(lambda: verification_from_json(item))

    async def issue(
        self,
        license_type: str,
        holder: Holder,
        data: Mapping[str, str],
        *,
        issuer: Issuer | None = None,
        number: str | None = None,
        valid_from: date | None = None,
        valid_until: date | None = None,
        related_parties: Sequence[Party] = (),
    ) -> License:
        """Issue a new license (version 001); the library fills in what is left out."""
        body: dict[str, Any] = {"type": license_type, "holder": holder_to_json(holder)}
        body["data"] = dict(data)
        body["related_parties"] = [holder_to_json(party) for party in related_parties]
        if issuer is not None:
            body["issuer"] = {"name": issuer.name, "code": issuer.code}
        optional = {"number": number, "valid_from": valid_from, "valid_until": valid_until}
        body |= {key: str(value) for key, value in optional.items() if value is not None}
        item = await self._json("POST", "/licenses", json=body)
        return _parsed(lambda: license_from_json(item))

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise LicenseLibraryError(response.status_code, "bad_json", str(exc)) from exc

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        url = self.base_url + path
        try:
            if self._http is not None:
                response = await self._http.request(
                    method, url, headers=self._headers, timeout=self._timeout, **kwargs
                )
            else:
                async with httpx2.AsyncClient(
                    transport=self._transport, verify=shared_context()
                ) as http:
                    response = await http.request(
                        method, url, headers=self._headers, timeout=self._timeout, **kwargs
                    )
        except httpx2.HTTPError as exc:
            raise LicenseLibraryError(None, "unreachable", str(exc)) from exc
        if response.is_success:
            return response
        raise _error(response)


def _error(response: httpx2.Response) -> LicenseLibraryError:
    try:
        body = response.json()
        error, message = str(body["error"]), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError):
        error, message = "http_error", response.text[:200]
    kind = LicenseNotFound if response.status_code == 404 else LicenseLibraryError
    return kind(response.status_code, error, message)


def _parsed(build: Callable[[], T]) -> T:
    try:
        result = build()
    except (KeyError, TypeError, ValueError) as exc:
        raise LicenseLibraryError(200, "off_contract", f"unexpected answer: {exc!r}") from exc
    return result
