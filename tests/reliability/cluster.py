"""A private, throwaway PostgreSQL 15 cluster that a test may stop, crash and start again.

The shared server on 127.0.0.1:5432 is never touched: this cluster lives in its own directory under
/tmp, owned by the ``postgres`` user, listens on a free port, and is removed afterwards. It needs
the PostgreSQL server binaries (``initdb``, ``pg_ctl``) and, when run as root, ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SEARCH = ["/usr/lib/postgresql/15/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_binaries() -> Path:
    """The directory holding initdb and pg_ctl (PostgreSQL 15 preferred)."""
    candidates = [*SEARCH]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    msg = f"no PostgreSQL server binaries (initdb, pg_ctl) in {candidates}"
    raise RuntimeError(msg)


class PrivateCluster:
    """initdb + pg_ctl on a directory of its own; ``stop(mode)`` and ``start()`` at will."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="caseledger-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
            timeout=120,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
                "fsync = on\nmax_connections = 100\nshared_buffers = 32MB\n"
            )

    def _run(self, argv: list[str], timeout: float = 60) -> None:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            msg = f"{' '.join(argv)} failed ({done.returncode}): {done.stdout}\n{done.stderr}\n{self.server_log()}"
            raise RuntimeError(msg)

    def server_log(self) -> str:
        try:
            return self.log.read_text()[-4000:]
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"]
        )
        self.wait_ready()

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown (clients are disconnected); ``immediate``: a crash (no
        checkpoint; the next start runs crash recovery from the WAL)."""
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
