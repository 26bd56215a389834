"""What the projection process's CPU priority (``CASELEDGER_PROJECTIONS__NICE``) does to ingestion and
to the read models' lag, with two API processes and one projection process on PostgreSQL.

    python -m benchmarks.projection_priority --nice 0,5,10 --repeat 3
    python -m benchmarks.projection_priority --nice 0 --batch-size 500     # the settings before

For each repeat, for each niceness in turn (interleaved, so that a machine whose speed drifts
weighs on every setting alike), on a fresh PostgreSQL schema: 180 suppliers with price lists are
imported, ``benchmarks.suite`` serves the API (``--workers 2``, the projections as their own
process), two clients send ``--events`` new items to ``POST /events`` in batches of 1,000, the
projections catch up, then a probe measures commit → visible while four clients write at a
moderate rate (``benchmarks.suite.live_lag``). Prints one row per run and the means; asserts
nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import arguments, use_benchmark_master_key
from benchmarks.suite import (
    cpu_speed_ms,
    create_tokens,
    fresh_database,
    live_lag,
    load_average,
    post_events,
    run_import,
    serve,
    visible_rate,
    wait_for_projections,
)

SUPPLIER_EVENTS = 3_000
"""The import before the server starts: the workload's suppliers and price lists, a few referrals."""


def one_run(
    nice: int, batch_size: int | None, events: int, lag_seconds: float, workdir: Path
) -> dict[str, Any]:
    os.environ["CASELEDGER_PROJECTIONS__NICE"] = str(nice)
    if batch_size:
        os.environ["CASELEDGER_PROJECTIONS__BATCH_SIZE"] = str(batch_size)
    database = fresh_database("postgres", workdir)
    try:
        run_import(database, SUPPLIER_EVENTS, workdir)
        tokens = create_tokens(database)
        with serve(database, 2, workdir) as server:
            wait_for_projections(server)
            speed = cpu_speed_ms()
            batch = post_events(server, tokens["*"], events)
            caught_up = wait_for_projections(server)
            lag = live_lag(server, tokens, lag_seconds)
    finally:
        database.drop()
        os.environ.pop("CASELEDGER_PROJECTIONS__BATCH_SIZE", None)
    return {
        "speed": speed,
        "accepted": batch["accepted"],
        "rate": batch["rate"],
        "visible": visible_rate(batch, caught_up),
        "behind": caught_up["behind"],
        "catch_up": caught_up["seconds"],
        "cpu": batch["cpu_ms"] + [batch["postgres_cpu_ms"]],
        "lag_p95": lag["p95"],
        "lag_p50": lag["p50"],
    }


def main() -> None:
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--nice", default="0,5,10", help="comma-separated niceness values")
    parser.add_argument("--batch-size", type=int, default=None, help="CASELEDGER_PROJECTIONS__BATCH_SIZE")
    parser.add_argument("--events", type=int, default=20_000, help="new items sent to POST /events")
    parser.add_argument("--lag-seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    values = [int(value) for value in args.nice.split(",")]
    batch = f"{args.batch_size:,}" if args.batch_size else "default"
    print(
        f"\n### projection priority — load average {load_average()}; projection batch size {batch}\n\n"
        "| nice | CPU speed check | POST /events accepted | accepted and visible | behind after, caught up in | "
        "CPU per event: API / projections / PostgreSQL | live lag p50 / p95 |\n|---|---|---|---|---|---|---|",
        flush=True,
    )
    found: dict[int, list[dict[str, Any]]] = {value: [] for value in values}
    with tempfile.TemporaryDirectory(prefix="caseledger-priority-") as workdir:
        for _ in range(args.repeat):
            for value in values:
                run = one_run(value, args.batch_size, args.events, args.lag_seconds, Path(workdir))
                found[value].append(run)
                print(
                    f"| {value} | {run['speed']:.0f} ms | {run['rate']:,.0f} events/s | {run['visible']:,.0f} events/s | "
                    f"{run['behind']:,} events, {run['catch_up']:.1f} s | "
                    f"{' / '.join(f'{ms:.2f}' for ms in run['cpu'])} ms | "
                    f"{run['lag_p50']:.0f} / {run['lag_p95']:.0f} ms |",
                    flush=True,
                )
    print("\n| nice | runs | POST /events accepted, mean | accepted and visible, mean | live lag p95, mean |")
    print("|---|---|---|---|---|")
    for value, runs in found.items():
        print(
            f"| {value} | {len(runs)} | {statistics.mean(r['rate'] for r in runs):,.0f} events/s | "
            f"{statistics.mean(r['visible'] for r in runs):,.0f} events/s | "
            f"{statistics.mean(r['lag_p95'] for r in runs):.0f} ms |"
        )
    print(f"\nload average after: {load_average()}")


if __name__ == "__main__":
    main()
