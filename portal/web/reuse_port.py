"""Several uvicorn workers, each accepting on a listening socket of its own (Linux's
``SO_REUSEPORT``), so the kernel spreads connections evenly over them.

uvicorn's workers share one listening socket, and the kernel hands a new connection to the
worker that waited last: keep-alive connections opened in a burst (a load balancer's, wrk's)
may all land in one worker and stay there while the others idle. Measured here: 64
connections went 32/32 in one run (1,793 pages a second) and 64/0 in the next (1,053);
docs/performance.md, "Eleventh round". With a socket per worker the kernel hashes each
connection to one of them. uvicorn has no option for it (its pull request #2472 is not
released), so the worker class of its supervisor is replaced while it runs.

The parent binds the address without listening: it keeps the port, takes no connection, and
tells each worker (through the socket it passes down) which port to join, port 0 included.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn import Config
from uvicorn.supervisors import multiprocess

log = logging.getLogger("uvicorn.error")

AVAILABLE = sys.platform == "linux"  # elsewhere the kernel does not spread the connections


def _bound(family: int, address: tuple[str, int]) -> socket.socket:
    # IPPROTO_TCP named, as uvicorn does: asyncio sets TCP_NODELAY on an accepted socket only
    # when its protocol says TCP, and without it a response written in two parts waited for
    # the client's delayed ACK (40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock


class _OwnSocketWorker(multiprocess.Process):
    def target(self, sockets: list[socket.socket] | None = None) -> None:  # in the worker
        own = []
        for held in sockets or ():  # the parent's: bound, never listening
            own.append(_bound(held.family, held.getsockname()[:2]))
            held.close()
        super().target(own)  # uvicorn listens on them


@contextlib.contextmanager
def _workers_with_own_sockets() -> Iterator[None]:
    plain = multiprocess.Process
    multiprocess.Process = _OwnSocketWorker  # type: ignore[misc]
    try:
        yield
    finally:
        multiprocess.Process = plain  # type: ignore[misc]


def serve_workers(config: Config) -> None:
    """``uvicorn.run(..., workers=N)`` with a listening socket per worker: the supervisor
    restarts a worker that dies, and each one joins the port's group anew."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    held = _bound(family, (config.host, config.port))
    host, port = held.getsockname()[:2]
    log.info("Uvicorn running on http://%s:%d, a socket per worker", host, port)
    with _workers_with_own_sockets():
        multiprocess.Multiprocess(config, sockets=[held]).run()


def run(options: dict[str, Any], socket_per_worker: bool) -> None:
    """``uvicorn.run(**options)``, with a socket per worker where asked and available."""
    if options.get("workers", 1) > 1 and socket_per_worker and AVAILABLE:
        serve_workers(Config(**options))
    else:
        uvicorn.run(**options)
