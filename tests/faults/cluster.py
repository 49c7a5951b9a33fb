"""A throwaway PostgreSQL cluster of the test's own (never the machine's server): initdb in
a temporary directory, started on a free port with its socket in that directory, restarted
on demand (fast or immediate shutdown), stopped and removed at the end."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.integrations.helpers import free_port


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: ``pg_config --bindir``, else /usr/lib/postgresql/*/bin."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(found.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def _as_postgres(args: list[str]) -> list[str]:
    """The server refuses to run as root: run its tools as the postgres user when we are."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options]
        command += ["-l", str(self.data / "server.log"), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres(command), check=True, capture_output=True)

    def restart(self, mode: str) -> None:
        """``mode`` fast (sessions ended cleanly) or immediate (like a crash: recovery on
        start)."""
        self.pg_ctl("restart", "-m", mode)

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode)

    def start(self) -> None:
        self.pg_ctl("start")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Raises LookupError when the PostgreSQL server binaries are not installed."""
    found = bindir()
    if found is None:
        raise LookupError("no PostgreSQL server binaries (initdb, pg_ctl)")
    root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    initdb = [str(found / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(_as_postgres([*initdb, "--no-sync"]), check=True, capture_output=True)
    cluster = Cluster(found, data, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)
