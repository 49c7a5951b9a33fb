"""``portal serve --workers N``: each worker accepts on a socket of its own, so connections
opened together are spread over every worker, also after one is replaced
(portal/web/reuse_port.py)."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.web import reuse_port
from tests.integrations.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 32

pytestmark = pytest.mark.skipif(not reuse_port.AVAILABLE, reason="SO_REUSEPORT spreads on Linux")


@pytest.fixture
def served() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    options = {
        "app": "tests.web.pid_app:app",
        "host": "127.0.0.1",
        "port": port,
        "workers": 2,
        "loop": "asyncio",  # the portal's; uvloop sets TCP_NODELAY whatever the socket says
        "log_level": "warning",
        "timeout_worker_healthcheck": 30,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from portal.web import reuse_port; reuse_port.run({options!r}, True)",
        ],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        _until(lambda: len(_answering(port)) == 2, "both workers answer")
        yield port, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _until(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(0.2)


def _answering(port: int) -> collections.Counter[int]:
    """Opens ``CONNECTIONS`` connections at once (as a load balancer's pool does), then asks
    each which process it reached."""
    connections: list[socket.socket] = []
    try:
        for _ in range(CONNECTIONS):
            connections.append(socket.create_connection(("127.0.0.1", port), 5))
    except OSError:  # not listening yet
        for connection in connections:
            connection.close()
        return collections.Counter()
    served: collections.Counter[int] = collections.Counter()
    for connection in connections:
        with connection:
            try:
                connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                answer = b""
                while chunk := connection.recv(4096):
                    answer += chunk
            except ConnectionResetError:  # queued on a worker's socket as it was killed
                continue
            pid, no_delay = answer.rpartition(b"\r\n\r\n")[2].split()
            # Else a response written in two parts waits for the client's delayed ACK.
            assert no_delay == b"1", "the connection waits to send (no TCP_NODELAY)"
            served[int(pid)] += 1
    return served


def test_connections_opened_together_are_spread_over_the_workers(
    served: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _process = served
    for _ in range(3):
        counts = sorted(_answering(port).values())
        # The kernel hashes each connection: 32 fall 16/16 on average, and fewer than 6 in
        # one worker about once in 10,000 tries; a shared socket often gives 32/0.
        assert len(counts) == 2 and counts[0] >= 6, counts


def test_a_worker_replaced_joins_the_port_again(
    served: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _process = served
    before = set(_answering(port))
    os.kill(min(before), signal.SIGKILL)
    _until(lambda: len(set(_answering(port)) - before) == 1, "a new worker answers")
    counts = sorted(_answering(port).values())
    assert len(counts) == 2 and counts[0] >= 6, counts
