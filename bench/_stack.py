"""The sandbox and one portal worker as processes on a fresh database (SQLite unless asked),
started as tests/load/run.py starts them, for the benches that drive the real pages."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import relay_throughput as stack
from tests.load.run import LoadSetup  # (raised sign-in rate limits)


@contextmanager
def sandbox_and_portal(
    prefix: str,
    port_base: int = 0,
    portal_env: dict[str, str] | None = None,
    database: str = "sqlite",
) -> Iterator[tuple[LoadSetup, int]]:
    """Yields the setup (its URLs) and the web worker's pid, printed for py-spy."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        tmp = Path(name)
        setup = LoadSetup(stack.fresh_database(database, tmp), tmp)
        if port_base:
            setup.portal_port, setup.sandbox_port = port_base, port_base + 1
        (tmp / "uploads").mkdir(exist_ok=True)
        setup.migrate()
        procs = stack.Processes(tmp)
        try:
            sandbox = procs.start(
                "sandbox", ["sandbox", "--port", str(setup.sandbox_port)], setup.env()
            )
            env = setup.portal_env() | (portal_env or {})
            web = procs.start("web", ["serve", "--port", str(setup.portal_port)], env)
            stack.wait_http(f"{setup.sandbox}/idp/.well-known/openid-configuration", sandbox, 180)
            stack.wait_http(f"{setup.portal}/healthz", web, 180)
            print(f"web pid {web.popen.pid}", flush=True)
            yield setup, web.popen.pid
        finally:
            procs.stop_all()
