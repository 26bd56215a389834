"""The CPU one API process spends per HTTP command, without the network, a load generator or rivals.

    python -m benchmarks.command_cpu --storage sqlite,postgres --commands 2000 --repeat 3
    python -m benchmarks.command_cpu --trees /tmp/before,.     # two checkouts, runs alternating

Each run, in a fresh process and on a fresh database (an SQLite file / a PostgreSQL schema): the
app (``api.app.create_app``, projections off) is driven through ASGI directly, one request at a
time, with a case system's bearer token of one municipality. The 180 suppliers of
``benchmarks/workload.py`` go in by ``POST /events``; then referral lifecycles (refer → match →
agree price → extend/adjust → close) are sent as single commands, the first 300 as a warm-up. It
prints the process's CPU per command (``time.process_time``: every thread; SQLite's work included,
PostgreSQL's server not)
and the wall time. The suite's HTTP load spreads the same work over processes competing for two
cores, so its figures move with the machine; this one resolves a change of a few per cent in the
API's own cost, e.g. between two checkouts (``--trees``; the other checkout's ``benchmarks.suite``
and ``benchmarks.workload`` are used). Asserts nothing beyond each command answering 2xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from api.app import create_app
from api.settings import Settings
from benchmarks import use_benchmark_master_key
from benchmarks.suite import cpu_speed_ms, fresh_database, load_average
from benchmarks.workload import Workload, http_command

WARM_UP = 300
MUNICIPALITY = "461"


class AsgiClient:
    """Requests straight into the ASGI app: what uvicorn would hand it, minus the socket."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, body: Any, token: str) -> int:
        payload = json.dumps(body).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"benchmark"),
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        messages = [{"type": "http.request", "body": payload, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await self.app(scope, receive, send)
        return statuses[0]


def commands() -> Iterator[tuple[str, dict[str, Any]]]:
    workload = Workload(prefix="cpu")
    workload.rng = random.Random(1)
    while True:
        for _, item in workload.lifecycle(MUNICIPALITY):
            yield http_command(item)


async def drive(url: str, count: int) -> dict[str, float]:
    app = create_app(Settings(database_url=url, run_projections=False))
    async with app.router.lifespan_context(app):
        tokens = app.state.ledger.open_tokens()
        admin = tokens.create(role="admin", municipality="*").secret
        case_system = tokens.create(role="case_system", municipality=MUNICIPALITY).secret
        client = AsgiClient(app)
        suppliers = Workload(prefix="cpu").supplier_items()
        for start in range(0, len(suppliers), 500):
            status = await client.post("/events", {"events": suppliers[start : start + 500]}, admin)
            assert status == 200, status
        sent = commands()
        for _ in range(WARM_UP):
            path, body = next(sent)
            status = await client.post(path, body, case_system)
            assert status < 300, (status, path)
        cpu, started = time.process_time(), time.perf_counter()
        for _ in range(count):
            path, body = next(sent)
            status = await client.post(path, body, case_system)
            assert status < 300, (status, path)
        return {
            "cpu_ms": (time.process_time() - cpu) * 1000 / count,
            "wall_ms": (time.perf_counter() - started) * 1000 / count,
        }


def measure(storage: str, count: int) -> dict[str, float]:
    """One run in this process (started fresh for it by ``main``)."""
    with tempfile.TemporaryDirectory(prefix="caseledger-command-cpu-") as workdir:
        database = fresh_database(storage, Path(workdir))
        try:
            return asyncio.run(drive(database.url, count))
        finally:
            database.drop()


def main() -> None:
    use_benchmark_master_key()
    # Not benchmarks.arguments: this file also runs on older checkouts' packages (``--trees``).
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--storage", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trees", default=".", help="comma-separated checkouts to run (default: this one)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.commands)))
        return
    trees = [str(Path(tree).resolve()) for tree in args.trees.split(",")]
    print(
        f"\n### CPU per HTTP command in one process, {args.commands:,} commands — load average "
        f"{load_average()}; CPU speed check {cpu_speed_ms():.0f} ms (lower is faster)\n"
    )
    print("| run | checkout | storage | process CPU per command | wall per command |")
    print("|---|---|---|---|---|")
    for run in range(1, args.repeat + 1):
        for storage in args.storage.split(","):
            for tree in trees:
                # This file, run on the checkout's own packages (the checkout need not have it).
                run_this = (
                    f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')"
                )
                command = [sys.executable, "-c", run_this, "--commands", str(args.commands)]
                environment = {**os.environ, "PYTHONPATH": tree}
                done = subprocess.run(
                    [*command, "--one", storage],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=tree,
                    env=environment,
                )
                found = json.loads(done.stdout)
                print(
                    f"| {run} | {tree} | {storage} | {found['cpu_ms']:.3f} ms | {found['wall_ms']:.3f} ms |",
                    flush=True,
                )
    print(f"\nload average after: {load_average()}; CPU speed check {cpu_speed_ms():.0f} ms")


if __name__ == "__main__":
    main()
