"""The live projection runner catching up with a backlog, per batch size: events/s and the CPU per
event of the runner and of the database.

    python -m benchmarks.catch_up --storage postgres --events 30000 --batch-sizes 500,2000,5000

For each batch size, on a fresh database (a PostgreSQL schema / an SQLite file): the workload of
``benchmarks/workload.py`` (180 suppliers, referral lifecycles in six municipalities) is loaded
with ``caseledger import``, then one ``ProjectionRunner`` in this process folds it the way the live
runner does after a bulk load or after yielding the CPU to writers (``catch_up``, not the bulk
rebuild). Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from api.runtime import tune_garbage_collector
from api.settings import Settings
from application.service.caseledger import CaseLedger
from benchmarks import arguments, use_benchmark_master_key
from benchmarks.suite import cpu_speed_ms, fresh_database, load_average, postgres_cpu_seconds, run_import
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner


def catch_up(storage: str, events: int, batch_size: int, workdir: Path) -> dict[str, float]:
    database = fresh_database(storage, workdir)
    try:
        run_import(database, events, workdir)
        env = Settings(database_url=database.url).storage_env()
        ledger = CaseLedger(env)
        db = ProjectionDatabase.from_env(env)
        try:
            runner = ProjectionRunner(db, ledger.read_events, batch_size=batch_size)
            server_cpu, cpu, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
            folded = runner.catch_up()
            elapsed = time.perf_counter() - started
            cpu, server_cpu = time.process_time() - cpu, postgres_cpu_seconds() - server_cpu
        finally:
            db.close()
            ledger.close()
    finally:
        database.drop()
    return {
        "events": folded,
        "rate": folded / elapsed,
        "runner_ms": cpu * 1000 / folded,
        "database_ms": server_cpu * 1000 / folded,
    }


def main() -> None:
    tune_garbage_collector()  # as the ``caseledger`` command does
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--events", type=int, default=30_000, help="size of the imported workload")
    parser.add_argument("--batch-sizes", default="500,2000,5000", help="comma-separated")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="caseledger-catch-up-"))
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    print(
        f"\n### live runner catching up, {args.storage} — load average {load_average()}; "
        f"CPU speed check {cpu_speed_ms():.0f} ms (lower is faster)\n"
    )
    print("| batch size | events | events/s | runner CPU per event | database CPU per event | together |")
    print("|---|---|---|---|---|---|")
    for size in sizes:
        found = catch_up(args.storage, args.events, size, workdir)
        database = f"{found['database_ms']:.3f} ms" if args.storage == "postgres" else "(in the runner)"
        print(
            f"| {size:,} | {found['events']:,.0f} | {found['rate']:,.0f} | {found['runner_ms']:.3f} ms | "
            f"{database} | {found['runner_ms'] + found['database_ms']:.3f} ms |",
            flush=True,
        )
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
