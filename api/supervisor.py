"""What ``caseledger serve`` becomes when it runs several API processes: uvicorn's process manager
for them and a keeper of one projection process. It serves no request itself, so it imports only
uvicorn and the standard library: ``serve`` replaces itself with it (``os.execv``, the same process
id) once the demo is loaded and the token printed, and the caseledger command's imports give way
to uvicorn's alone (figures: docs/benchmarks.md).

    python -m api.supervisor --workers 3 --host 127.0.0.1 --port 8000 [--projections]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from api.logs import log_config

log = logging.getLogger("caseledger.supervisor")

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's variable: where every API process keeps its metric values (``api.metrics``)."""
RESTART_PAUSE_SECONDS = 5.0


def serve_workers(workers: int, host: str, port: int, *, projections: bool) -> None:
    """Several API processes (each one GIL: one process cannot use a second core) and, unless the
    operator runs their own (``CASELEDGER_RUN_PROJECTIONS=false``), one projection process, started
    again if it exits; the workers read their settings from the environment, as ``serve`` did."""
    os.environ["CASELEDGER_RUN_PROJECTIONS"] = "false"
    stop = threading.Event()
    supervisor = threading.Thread(target=_supervise_projections, args=(stop,), name="projections-supervisor")
    with metrics_directory(several=True):
        if projections:
            supervisor.start()
        try:
            uvicorn.run(
                "api.app:create_served_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                log_config=log_config(),
            )
        finally:
            stop.set()
            if projections:
                supervisor.join()


@contextmanager
def metrics_directory(*, several: bool) -> Iterator[None]:
    """Where the API processes keep their Prometheus values, so that ``/metrics`` counts all of them
    (``api.metrics``): the operator's ``PROMETHEUS_MULTIPROC_DIR`` (not empty: ``serve`` refuses
    that first), emptied of an earlier run's files as prometheus_client requires (with one process
    too, which then writes there as well); else, for ``several`` processes, a temporary one removed
    afterwards (set before the workers and the projection process start, so that all of them see it)."""
    chosen = os.environ.get(MULTIPROCESS_DIR)
    if chosen:
        for stale in Path(chosen).glob("*.db"):
            stale.unlink()
    if chosen or not several:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="caseledger-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]


def _supervise_projections(stop: threading.Event) -> None:
    """Keep one ``caseledger projections run`` going until ``stop`` (it stops by itself, too, if
    this process dies without stopping it)."""
    command = [sys.executable, "-c", "from api.cli import main; main()", "projections", "run"]
    while not stop.is_set():
        follower = subprocess.Popen([*command, "--stop-with-parent", str(os.getpid())])  # noqa: S603 - our own CLI
        while follower.poll() is None and not stop.wait(0.5):
            pass
        if follower.poll() is None:
            follower.terminate()
            try:
                follower.wait(timeout=30)
            except subprocess.TimeoutExpired:
                follower.kill()
            return
        log.error(
            "the projection process exited with %d; starting it again in %.0f s",
            follower.returncode,
            RESTART_PAUSE_SECONDS,
        )
        stop.wait(RESTART_PAUSE_SECONDS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--projections", action="store_true", help="start and keep one projection process")
    args = parser.parse_args(argv)
    serve_workers(args.workers, args.host, args.port, projections=args.projections)


if __name__ == "__main__":
    main()
