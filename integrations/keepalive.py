"""Keep-alive connections for HTTP clients made per call.

Authlib's OIDC client opens an httpx client for each call (token, userinfo, discovery, JWKS)
and closes it after (authlib issue 822): a new TCP connection, and on https a TLS handshake,
every time. Given ``KeepAliveTransport`` as its ``transport``, those clients share one
connection pool that their closing leaves open; ``close()`` ends it with the app.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from typing import Any, cast
from urllib.parse import urlsplit

import httpx2

from integrations.tls import shared_context


def environment_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (HTTPS_PROXY, NO_PROXY …), as an httpx
    client without a transport of its own would use."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parts.scheme) or proxies.get("all")


class KeepAliveTransport(httpx2.AsyncBaseTransport):
    """A connection pool for short-lived clients. Connections belong to the event loop that
    opened them, so each pool serves only the loop ``open()`` ran in (the app's lifespan;
    tests run one app on several loops, at times at once); on a loop without one, a request
    gets a connection of its own, closed with its response."""

    def __init__(self, url: str) -> None:
        self._options: dict[str, Any] = {"verify": shared_context()}
        if proxy := environment_proxy(url):
            self._options["proxy"] = proxy
        self._pools: dict[asyncio.AbstractEventLoop, httpx2.AsyncHTTPTransport] = {}

    async def open(self) -> None:
        """A pool for the running loop, until ``close()`` on that loop."""
        self._pools[asyncio.get_running_loop()] = httpx2.AsyncHTTPTransport(**self._options)

    async def close(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.aclose()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        pool = self._pools.get(asyncio.get_running_loop())
        if pool is not None:
            return await pool.handle_async_request(request)
        once = httpx2.AsyncHTTPTransport(**self._options)
        try:
            response = await once.handle_async_request(request)
        except BaseException:
            await once.aclose()
            raise
        stream = _ClosingStream(cast(httpx2.AsyncByteStream, response.stream), once)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=stream,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """A per-call client closes its transport: the pool stays open (see ``close``)."""


class _ClosingStream(httpx2.AsyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, transport: httpx2.AsyncBaseTransport):
        self._stream = stream
        self._transport = transport

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            await self._transport.aclose()
