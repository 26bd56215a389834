"""The CPU one process spends per event, on the write side and on the projection side, without HTTP.

    python -m benchmarks.cpu_per_event --storage postgres --events 20000 --gc default,tuned --repeat 2

Each run, in a fresh process and on a fresh database (a PostgreSQL schema / an SQLite file): the
workload of ``benchmarks/workload.py`` (180 suppliers, referral lifecycles in six municipalities) is
applied in 1,000-item batches exactly as ``POST /events`` and ``caseledger import`` apply them
(``api.batch_items.apply_items``, as an admin), the first 2,000 items as a warm-up; then one
``ProjectionRunner`` folds the whole log as the live runner does when it is behind (``catch_up``, in
batches of up to 5,000). It prints this process's CPU per event for each (``time.process_time``) and
the database server's (PostgreSQL only). ``--gc`` runs each garbage-collector setting: ``default``
is CPython's own, ``tuned`` what caseledger's processes set (``api.runtime``). Runs alternate
between the settings, so that the machine's drift falls on both. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api.batch_items import apply_items
from api.runtime import tune_garbage_collector
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.token_roles import Token
from benchmarks import arguments, use_benchmark_master_key
from benchmarks.suite import cpu_speed_ms, fresh_database, load_average, postgres_cpu_seconds
from benchmarks.workload import Workload
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner

BATCH_ITEMS = 1000
WARM_UP_ITEMS = 2000


def measure(storage: str, events: int, gc_setting: str) -> dict[str, Any]:
    """One run in this process (started fresh for it by ``main``)."""
    if gc_setting == "tuned":
        tune_garbage_collector()
    workdir = Path(tempfile.mkdtemp(prefix="caseledger-cpu-"))
    database = fresh_database(storage, workdir)
    try:
        env = Settings(database_url=database.url).storage_env()
        ledger = CaseLedger(env)
        operator = Token(name="benchmark", role="admin", municipality="*", created_at="")
        workload = Workload()
        apply_items(ledger, operator, workload.supplier_items(), None)
        items = list(workload.referral_items(events))
        for start in range(0, WARM_UP_ITEMS, BATCH_ITEMS):
            apply_items(ledger, operator, items[start : start + BATCH_ITEMS], None)
        items = items[WARM_UP_ITEMS:]
        server, cpu, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
        accepted = 0
        for start in range(0, len(items), BATCH_ITEMS):
            outcomes = apply_items(ledger, operator, items[start : start + BATCH_ITEMS], None)
            accepted += sum(outcome["status"] == "accepted" for outcome in outcomes)
        write = _figures(accepted, server, cpu, started)
        db = ProjectionDatabase.from_env(env)
        try:
            runner = ProjectionRunner(db, ledger.read_events)
            server, cpu, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
            folded = runner.catch_up()
            fold = _figures(folded, server, cpu, started)
        finally:
            db.close()
            ledger.close()
    finally:
        database.drop()
    return {"write": write, "fold": fold}


def _figures(events: int, server: float, cpu: float, started: float) -> dict[str, float]:
    elapsed = time.perf_counter() - started
    return {
        "events": events,
        "rate": events / elapsed,
        "process_ms": (time.process_time() - cpu) * 1000 / events,
        "database_ms": (postgres_cpu_seconds() - server) * 1000 / events,
    }


def main() -> None:
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--events", type=int, default=20_000, help="items of the workload")
    parser.add_argument("--gc", default="default,tuned", help="comma-separated: default, tuned")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.storage, args.events, args.one)))
        return
    settings = args.gc.split(",")
    print(
        f"\n### CPU per event, {args.storage}, {args.events:,} items — load average {load_average()}; "
        f"CPU speed check {cpu_speed_ms():.0f} ms (lower is faster)\n"
    )
    print(
        "| gc | write: events/s | write: process CPU per event | write: database | "
        "fold: events/s | fold: process CPU per event | fold: database |"
    )
    print("|---|---|---|---|---|---|---|")
    for _ in range(args.repeat):
        for setting in settings:
            command = [sys.executable, "-m", "benchmarks.cpu_per_event", "--storage", args.storage]
            command += ["--events", str(args.events), "--one", setting]
            found = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            write, fold = found["write"], found["fold"]
            print(
                f"| {setting} | {write['rate']:,.0f} | {write['process_ms']:.3f} ms | "
                f"{write['database_ms']:.3f} ms | {fold['rate']:,.0f} | {fold['process_ms']:.3f} ms | "
                f"{fold['database_ms']:.3f} ms |",
                flush=True,
            )
    print(f"\nload average after: {load_average()}; CPU speed check {cpu_speed_ms():.0f} ms")


if __name__ == "__main__":
    main()
