"""One TLS context for the clients that open a short-lived HTTP client per call.

Building a context loads the CA bundle (tens of milliseconds of CPU, in the event loop): per
call it took half a portal worker's CPU under load (docs/load.md). A context holds no
connection and no event loop, so one serves every client, thread and loop.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx2


@cache
def shared_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()
