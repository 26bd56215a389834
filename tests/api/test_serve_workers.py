"""``caseledger serve`` with several API processes and one projection process, as one service: how
many it starts by itself, the projection process's priority and restarts, and ``/metrics`` counting
every API process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from api.settings import DEFAULT_MAX_WORKERS, available_cores
from api.supervisor import MULTIPROCESS_DIR
from benchmarks.suite import children_of
from tests.api.bodies import referral
from tests.reliability.cluster import free_port
from tests.reliability.server import admin_token


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "zombie" not in Path(f"/proc/{pid}/status").read_text(errors="replace").lower()


def _until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


class Service:
    def __init__(self, process: subprocess.Popen[bytes], base: str, token: str, log: Path) -> None:
        self.process, self.base, self.log = process, base, log
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def projection_processes(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if "projections run" in _command_line(pid)]

    def workers(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if "multiprocessing-fork" in _command_line(pid)]

    def write_and_read_back(self) -> None:
        """A new referral, then the list once the projections include it (503 meanwhile: retried)."""
        answer = self.client.post("/referrals", json=referral())
        assert answer.status_code == 201, answer.text
        position = answer.json()["position"]
        _until(
            lambda: self.client.get("/referrals", params={"min_position": position}).status_code == 200,
            f"the projections reach {position}:\n{self.log.read_text()[-3000:]}",
        )


def _processes(db_url: str, workers: int | None) -> int:
    """The API processes ``serve`` should start here: as asked, else one per available core (at
    most ``DEFAULT_MAX_WORKERS``) on PostgreSQL and one on SQLite."""
    if workers:
        return workers
    return min(available_cores(), DEFAULT_MAX_WORKERS) if db_url.startswith("postgresql") else 1


@contextmanager
def serving(db_url: str, tmp_path: Path, workers: int | None = 2, **environ: str) -> Iterator[Service]:
    """``caseledger serve --workers N`` (without ``--workers`` when None) on ``db_url``, with
    ``environ`` added to its environment."""
    port = free_port()
    log = tmp_path / "serve.log"
    chosen = ["--workers", str(workers)] if workers else []
    unset = ("CASELEDGER_WORKERS", MULTIPROCESS_DIR)
    environment = {k: v for k, v in os.environ.items() if k not in unset} | environ
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import main; main()", "serve", *chosen, "--port", str(port)],
            env={**environment, "CASELEDGER_DATABASE_URL": db_url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    service = Service(process, f"http://127.0.0.1:{port}", admin_token(db_url), log)
    try:
        _until(lambda: _ready(service), f"the service answers:\n{log.read_text()[-3000:]}")
        if _processes(db_url, workers) > 1:
            _until(lambda: len(service.projection_processes()) == 1, "the projection process runs")
        yield service
    finally:
        service.client.close()
        for pid in [process.pid, *children_of(process.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)


def _ready(service: Service) -> bool:
    assert service.process.poll() is None, service.log.read_text()
    try:
        return httpx.get(f"{service.base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_workers_serve_and_one_projection_process_follows_their_writes_and_is_restarted(
    db_url: str, tmp_path: Path
) -> None:
    with serving(db_url, tmp_path) as service:
        assert len(service.workers()) == 2
        service.write_and_read_back()
        # On PostgreSQL the projections yield the CPU to the API processes; on SQLite they hold the
        # write lock while folding a batch, and run at the same priority as the writers.
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in service.workers()] == [0, 0]
        yielding = 10 if db_url.startswith("postgresql") else 0
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in service.projection_processes()] == [yielding]

        first = service.projection_processes()[0]
        os.kill(first, signal.SIGKILL)
        _until(lambda: service.projection_processes() not in ([], [first]), "a new projection process runs")
        service.write_and_read_back()

        everyone = [*service.workers(), *service.projection_processes()]
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0
        _until(
            lambda: not any(_alive(pid) for pid in everyone), "every process of the service has exited", 30
        )


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def test_serve_hands_over_to_a_keeper_that_holds_none_of_the_app(db_url: str, tmp_path: Path) -> None:
    """With several API processes, ``serve`` becomes ``api.supervisor`` (same process id): its
    memory is uvicorn's and the standard library's, not a third of another API process's."""
    with serving(db_url, tmp_path) as service:
        assert "-m api.supervisor --workers 2" in _command_line(service.process.pid)
        keeper, worker = _rss_kb(service.process.pid), min(_rss_kb(pid) for pid in service.workers())
        assert keeper < worker / 2, f"keeper {keeper} kB, an API process {worker} kB"


def test_the_projection_process_stops_when_serve_is_killed(db_url: str, tmp_path: Path) -> None:
    with serving(db_url, tmp_path) as service:
        follower, workers = service.projection_processes()[0], service.workers()
        try:
            service.process.send_signal(signal.SIGKILL)
            service.process.wait(timeout=30)
            _until(lambda: not _alive(follower), "the orphaned projection process has stopped", 30)
        finally:
            # uvicorn's own workers outlive a killed supervisor (a service manager kills the group).
            for pid in workers:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


def test_serve_without_workers_uses_the_cores_on_postgresql_and_one_process_on_sqlite(
    db_url: str, tmp_path: Path
) -> None:
    with serving(db_url, tmp_path, workers=None) as service:
        expected = _processes(db_url, None)
        if expected == 1:
            # One process, the projections inside it: no worker or projection process of its own.
            assert service.workers() == []
            assert service.projection_processes() == []
        else:
            assert len(service.workers()) == expected
            assert len(service.projection_processes()) == 1
        service.write_and_read_back()


def _healthz_count(base: str) -> float:
    """``/metrics`` as a new connection sees it: the requests counted for ``GET /healthz``."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "caseledger_http_requests_total" and sample.labels.get("route") == "/healthz":
                return sample.value
    return 0.0


def test_metrics_count_the_requests_of_every_api_process(db_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    # An earlier run's file, as an operator's directory may hold: serve must not count it.
    (shared / "counter_1.db").write_bytes(b"left by an earlier run")
    with serving(db_url, tmp_path, **{MULTIPROCESS_DIR: str(shared)}) as service:
        assert not (shared / "counter_1.db").exists()
        # Each on a new connection, so that both API processes answer some of them.
        for _ in range(40):
            assert httpx.get(f"{service.base}/healthz", timeout=10).status_code == 200
        _until(lambda: _healthz_count(service.base) == 40.0, "a scrape counts the 40 requests")
        assert [_healthz_count(service.base) for _ in range(6)] == [40.0] * 6
        # Both processes answered: each wrote its own counters (one file per process id).
        writers = {path.stem.rsplit("_", 1)[1] for path in shared.glob("counter_*.db")}
        assert set(map(str, service.workers())) <= writers, writers
