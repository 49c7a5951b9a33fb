"""The portal's WeChat client: wechatpy pointed at a configurable API base, behind an async
facade that returns dataclasses.

wechatpy hard-codes ``https://api.weixin.qq.com`` in three kinds of places: the client's
``API_BASE_URL``, one ``API_BASE_URL`` per API group (``client.wxa`` and others, some of them
nested), and the token URL inside ``fetch_access_token()``. ``PortalWeChatClient`` moves all
of them to ``api_base`` in one place, so the sandbox and production differ by one setting.

wechatpy is blocking (requests), so every call runs in a worker thread. ``session_key`` is
dropped as soon as the answer arrives: the portal keeps its own session and never needs it.
"""

# wechatpy ships no type information; its classes are subclassed as they are meant to be.
# mypy: disable-error-code="import-untyped, misc"

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from wechatpy.client import WeChatClient
from wechatpy.client.api import WeChatWxa
from wechatpy.client.api.base import BaseWeChatAPI
from wechatpy.exceptions import WeChatClientException

WECHAT_API = "https://api.weixin.qq.com/"
# Errors that mean "this login code is no good": the person must get a fresh one.
CODE_ERRORS = frozenset({40029, 40163, 41008})


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    unionid: str | None


class WeChatError(Exception):
    """WeChat refused a call (``errcode`` set) or could not be reached (``errcode`` None)."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatCodeError(WeChatError):
    """The ``wx.login()`` code is unknown, expired (40029), already used (40163) or missing
    (41008): the mini-program must be reopened for a new one, nothing is wrong with WeChat."""


class _MiniProgramAPI(WeChatWxa):
    def code_to_session(self, js_code: str) -> dict[str, Any]:
        # jscode2session authenticates with appid and secret, not an access token; an
        # explicit None stops wechatpy fetching one (requests drops None-valued parameters).
        params = {
            "appid": self.appid,
            "secret": self.secret,
            "js_code": js_code,
            "grant_type": "authorization_code",
            "access_token": None,
        }
        result: dict[str, Any] = self._get("sns/jscode2session", params=params)
        return result


class PortalWeChatClient(WeChatClient):
    """wechatpy's client with every URL under ``api_base`` (``https://api.weixin.qq.com`` in
    production, ``<base>/sandbox/wechat`` otherwise)."""

    wxa = _MiniProgramAPI()

    def __init__(
        self, api_base: str, appid: str, secret: str, *, timeout: float, session: Any = None
    ) -> None:
        super().__init__(appid, secret, timeout=timeout, session=session)
        self.api_base = api_base.rstrip("/") + "/"
        self.API_BASE_URL = self._rebase(WeChatClient.API_BASE_URL)
        for api in _api_groups(self):
            if base := getattr(type(api), "API_BASE_URL", None):
                api.API_BASE_URL = self._rebase(base)

    def _rebase(self, url: str) -> str:
        if not url.startswith(WECHAT_API):
            raise ValueError(f"unexpected wechatpy base URL {url!r}")
        return self.api_base + url.removeprefix(WECHAT_API)

    def fetch_access_token(self) -> dict[str, Any]:
        result: dict[str, Any] = self._fetch_access_token(
            url=self.api_base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
        return result


def _api_groups(owner: object) -> Iterator[BaseWeChatAPI]:
    """Every API group object of a client, nested ones included (``merchant.order``…)."""
    for value in vars(owner).values():
        if isinstance(value, BaseWeChatAPI):
            yield value
            yield from _api_groups(value)


class WeChatGateway:
    """What the portal asks of WeChat, without blocking the event loop."""

    def __init__(
        self,
        api_base: str,
        appid: str,
        secret: str,
        *,
        timeout: float = 10.0,
        redis_url: str = "",
    ) -> None:
        self.client = PortalWeChatClient(
            api_base, appid, secret, timeout=timeout, session=_token_storage(redis_url)
        )

    async def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login()`` code for who the WeChat user is."""
        if not code:
            raise WeChatCodeError(41008, "missing code")
        result = await run_in_threadpool(_call, self.client.wxa.code_to_session, code)
        return WeChatSession(openid=str(result["openid"]), unionid=result.get("unionid"))

    async def send_subscribe_message(
        self, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> None:
        """Send a subscribe message; ``data`` maps template keys (``thing1``…) to text."""
        wrapped = {key: {"value": value} for key, value in data.items()}
        send = self.client.wxa.send_subscribe_message
        await run_in_threadpool(_call, send, openid, template_id, wrapped, page)


def _token_storage(redis_url: str) -> Any:
    """Where the access token is kept: in Redis when there is one, so every process uses the
    same token (each fetch of a new one makes WeChat retire the previous one within minutes,
    so processes that each fetched their own would keep failing each other)."""
    if not redis_url:
        return None  # wechatpy's memory storage: right for one process
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    return RedisStorage(redis.Redis.from_url(redis_url), prefix="portal:wechat")


def _call(function: Callable[..., Any], *args: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = function(*args)
    except WeChatClientException as exc:
        if exc.errcode is None:  # an HTTP error status, not a WeChat answer
            raise WeChatError(None, f"HTTP error from WeChat: {exc.response}") from exc
        errcode = int(exc.errcode)
        error = WeChatCodeError if errcode in CODE_ERRORS else WeChatError
        raise error(errcode, str(exc.errmsg)) from exc
    except OSError as exc:  # requests' errors are OSErrors: refused, timed out, reset
        raise WeChatError(None, f"WeChat unreachable: {exc}") from exc
    return result
