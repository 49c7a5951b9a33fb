"""Start the portal for a benchmark: a fresh migrated SQLite database, uvicorn on loopback."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from portal.app import create_app
from portal.db_migrate import upgrade
from portal.settings import Settings


@contextmanager
def running_portal() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        upgrade(url)
        base = f"http://127.0.0.1:{port}"
        settings = Settings.from_env(
            environ={}, database_url=url, base_url=base, secret_key="bench-only"
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            yield base
        finally:
            server.should_exit = True
            thread.join(timeout=10)
