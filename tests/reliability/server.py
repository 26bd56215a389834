"""The API as a real uvicorn process, for tests that kill it, starve it of its database or measure it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from application.service.caseledger import CaseLedger
from application.storage.environment import prepare_storage
from benchmarks import uvicorn_command
from tests.reliability.cluster import free_port
from tests.storage import storage_env


def admin_token(database_url: str) -> str:
    """A new admin token for every municipality, made through the application's token store."""
    env = storage_env(database_url)
    prepare_storage(env)
    ledger = CaseLedger(env)
    try:
        return ledger.open_tokens().create(role="admin", municipality="*").secret
    finally:
        ledger.close()


class ApiServer:
    """``uvicorn api.app:create_served_app --factory`` (as ``caseledger serve`` runs its API
    processes), or another app ``factory``, on a free port, configured by ``CASELEDGER_*``."""

    def __init__(
        self,
        database_url: str,
        log: Path,
        extra_env: Mapping[str, str] | None = None,
        factory: str = "api.app:create_served_app",
    ) -> None:
        self.database_url = database_url
        self.factory = factory
        self.log_path = log
        self.extra_env = dict(extra_env or {})
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra_env: Mapping[str, str] | None = None, timeout: float = 60) -> None:
        env = {
            **os.environ,
            "CASELEDGER_DATABASE_URL": self.database_url,
            **self.extra_env,
            **(extra_env or {}),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                uvicorn_command(self.port, factory=self.factory),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                msg = f"the API exited with {self.process.returncode}:\n{self.log()}"
                raise RuntimeError(msg)
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                msg = f"the API did not start within {timeout} s:\n{self.log()}"
                raise RuntimeError(msg)
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_dead(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, like a crashed host process."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kib(self) -> int:
        """The server process's resident memory (VmRSS, KiB)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        msg = "no VmRSS"
        raise RuntimeError(msg)
