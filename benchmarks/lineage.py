"""Lineage of spending cells and the cost of the case-number index.

    python -m benchmarks.lineage --database-url sqlite:///bench/l.sqlite --events 150000

Fills the store with the bulk data set (``benchmarks/dataset.py``) when it is empty, rebuilds the read
models, then times (p50/p95, ms) the lineage of month × supplier cells of municipality 461 — the
busiest cell and a spread of others, each as ``GET /reports/spending/lineage`` computes it, without
HTTP — beside the spending report's year by supplier; and reads the whole log as the projections
do with and without the case indexes worked out. Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import application.service.caseledger as caseledger_module
from api.runtime import tune_garbage_collector
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.storage.environment import prepare_storage
from benchmarks import arguments, use_benchmark_master_key
from benchmarks.dataset import generate
from benchmarks.projections import timed
from projections.database import ProjectionDatabase
from projections.lineage import LineageQuery, lineage
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery


def read_log(ledger: CaseLedger, batch: int) -> tuple[float, int]:
    """CPU seconds of this process to read the whole log as the projections do (CPU rather than
    wall time: it is what the case indexes add, and it holds on a loaded machine), and the events."""
    position, count = 0, 0
    started = time.process_time()
    while found := ledger.read_events(position, batch):
        position, count = found[-1][0], count + len(found)
    return time.process_time() - started, count


def main() -> None:
    tune_garbage_collector()
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cells", type=int, default=12, help="cells besides the busiest")
    args = parser.parse_args()

    env = Settings(database_url=args.database_url).storage_env()
    prepare_storage(env)
    ledger = CaseLedger(env)
    if ledger.last_position() == 0:
        generate(ledger, events=args.events)
    db = ProjectionDatabase.from_env(env)
    runner = ProjectionRunner(db, ledger.read_events, rebuild_batch_size=5000)
    started, cpu_started = time.perf_counter(), time.process_time()
    rebuilt = runner.rebuild()
    rebuild_s, rebuild_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    reports = Reports(db)

    def cell(month: str, supplier_id: str) -> dict[str, Any]:
        query = LineageQuery(month=month, by="supplier", key=supplier_id, municipality="461")
        parts = reports.spending_lineage(query)
        read = ledger.sealed_events_upto({UUID(p.referral_id): p.version for p in parts})
        events_of = {p.referral_id: read[UUID(p.referral_id)] for p in parts}
        return lineage(parts, events_of, month)

    rows = reports.spending(SpendingQuery(by="supplier", municipality="461"))["rows"]
    rows.sort(key=lambda row: int(row["amount"].replace(".", "")), reverse=True)
    busiest = rows[0]
    spread = rows[:: max(1, len(rows) // args.cells)][: args.cells]
    sizes = [len(cell(row["month"], row["key"])["referrals"]) for row in spread]
    samples = [timed(lambda row=row: cell(row["month"], row["key"]), args.repeat) for row in spread]
    indexed_s, count = read_log(ledger, 5000)
    original = caseledger_module.index_case_refs
    caseledger_module.index_case_refs = lambda keyring, events: None  # type: ignore[assignment]
    try:
        plain_s, _ = read_log(ledger, 5000)
    finally:
        caseledger_module.index_case_refs = original

    print(f"\n{db.dialect}: {ledger.last_position():,} events\n")
    print("| measure | result |")
    print("|---|---|")
    print(f"| rebuild, all projections | {rebuilt:,} events in {rebuild_s:.1f} s ({rebuild_cpu:.1f} CPU-s) |")
    p50, p95 = timed(lambda: cell(busiest["month"], busiest["key"]), args.repeat)
    size = len(cell(busiest["month"], busiest["key"])["referrals"])
    print(
        f"| lineage, busiest month × supplier of 461 ({size} referrals) | p50 {p50:.1f} / p95 {p95:.1f} ms |"
    )
    print(
        f"| lineage, {len(spread)} month × supplier cells of 461 ({min(sizes)}–{max(sizes)} referrals) | "
        f"p95 {min(s[1] for s in samples):.1f}–{max(s[1] for s in samples):.1f} ms |"
    )
    p50, p95 = timed(
        lambda: reports.spending(
            SpendingQuery(from_month="2025-01", to_month="2025-12", by="supplier", municipality="461")
        ),
        args.repeat,
    )
    print(f"| spending, a year by supplier (461), beside it | p50 {p50:.1f} / p95 {p95:.1f} ms |")
    print(
        f"| reading the log for the projections ({count:,} events), CPU: with case indexes / without | "
        f"{indexed_s:.1f} s / {plain_s:.1f} s |"
    )
    db.close()
    ledger.close()


if __name__ == "__main__":
    main()
