"""The portal's client for the SMS gateway, contract in docs/sms-api.md.

``api_base`` is the API root (``…/sms/api/v1`` on the sandbox). Unlike the license library's
client, a gateway keeps one HTTP client (and its connection pool) for its whole life, so it
belongs to one event loop: open it in the app's lifespan, ``close()`` it there too.
Retrying a send with the same ``out_id`` is always safe: the gateway answers the first
message again instead of texting twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self

import httpx2

# 408 and 429 say "not now" rather than "not this": the same request can succeed later.
_TRANSIENT_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class SmsReceipt:
    message_id: str
    status: str


class SmsError(Exception):
    """The gateway did not take a message. ``permanent`` means retrying the same request
    cannot help (bad number, unknown template, bad key); otherwise retry later with the
    same ``out_id``. ``code`` is the gateway's error code or ``unreachable``/``timeout``."""

    def __init__(self, permanent: bool, code: str, message: str) -> None:
        kind = "permanent" if permanent else "transient"
        super().__init__(f"SMS gateway {kind} error {code}: {message}")
        self.permanent = permanent
        self.code = code
        self.message = message


class SmsGateway:
    def __init__(
        self,
        api_base: str,
        api_key: str,
        *,
        sign_name: str = "一件事",
        timeout: float = 10.0,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.sign_name = sign_name
        self._http = httpx2.AsyncClient(
            base_url=self.api_base + "/",
            headers={"authorization": f"Bearer {api_key}", "accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def send(
        self, mobile: str, template: str, params: Mapping[str, str], *, out_id: str
    ) -> SmsReceipt:
        """Text ``template`` filled with ``params`` to ``mobile``, at most once per ``out_id``."""
        body = {
            "phone_number": mobile,
            "sign_name": self.sign_name,
            "template_code": template,
            "template_params": dict(params),
            "out_id": out_id,
        }
        try:
            response = await self._http.post("messages", json=body)
        except httpx2.TimeoutException as exc:
            raise SmsError(False, "timeout", str(exc) or type(exc).__name__) from exc
        except httpx2.HTTPError as exc:
            raise SmsError(False, "unreachable", str(exc) or type(exc).__name__) from exc
        if not response.is_success:
            raise _error(response)
        return _receipt(response)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _receipt(response: httpx2.Response) -> SmsReceipt:
    try:
        body = response.json()
        message_id, status = body["message_id"], body["status"]
    except (ValueError, KeyError, TypeError) as exc:
        # The message may well have been taken; a retry with the same out_id cannot
        # send it twice, so let the caller retry rather than drop it.
        raise SmsError(False, "bad_response", f"unexpected answer: {exc!r}") from exc
    if not isinstance(message_id, str) or not isinstance(status, str):
        raise SmsError(False, "bad_response", f"unexpected answer: {body!r}"[:200])
    return SmsReceipt(message_id=message_id, status=status)


def _error(response: httpx2.Response) -> SmsError:
    status = response.status_code
    permanent = status < 500 and status not in _TRANSIENT_STATUSES
    try:
        body = response.json()
        code, message = str(body["error"]), str(body.get("message", ""))
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message = f"http_{status}", response.text[:200]
    return SmsError(permanent, code, message)
