"""An ASGI app that answers with the id of the process that served it and whether the
connection sends without waiting (TCP_NODELAY), read off the connection's own socket
(tests/web/test_reuse_port.py)."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any


def _no_delay(client: tuple[str, int]) -> int:
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            sock = socket.socket(fileno=int(name))
            try:
                if sock.type == socket.SOCK_STREAM and sock.getpeername() == tuple(client):
                    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            finally:
                sock.detach()  # the server's: not ours to close
    return -1


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = f"{os.getpid()} {_no_delay(scope['client'])}".encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
