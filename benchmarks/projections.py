"""Rebuild rate of all projections together, and report query latencies.

    python -m benchmarks.projections --database-url sqlite:///bench/b.sqlite --events 1000000
    python -m benchmarks.projections --database-url "postgresql://postgres@127.0.0.1:5432/test?schema=bench" --demo
    python -m benchmarks.projections --database-url sqlite:///bench/b.sqlite --rebuild-only   # A/B runs of the rebuild

The store is filled first when it is empty (``--demo``: the demo municipality; otherwise the bulk
data set of ``benchmarks/dataset.py``). Prints a Markdown table; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from api.basis import basis_of
from api.demo import load_demo
from api.runtime import tune_garbage_collector
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.storage.environment import prepare_storage
from benchmarks import arguments, use_benchmark_master_key
from benchmarks.dataset import generate
from benchmarks.suite import cpu_speed_ms
from domain.reference import load_reference
from projections.candidates import CandidateQuery
from projections.database import ProjectionDatabase
from projections.known_at import KnownAt
from projections.practice import PracticeQuery
from projections.price_benchmarks import BenchmarkQuery
from projections.price_practice import ExceptionQuery, PriceListQuery
from projections.read_models import live_generation, live_is_current
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from projections.spending_log import MARK_EVERY
from projections.supplier_overview import OverviewQuery
from projections.tables import table

TODAY = date(2026, 6, 15)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(p50, p95) in milliseconds over ``repeat`` runs, after one warm-up."""
    run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def knowledge_tables(db: ProjectionDatabase) -> list[tuple[str, int, int]]:
    """``(table, rows, bytes with its indexes)`` of the live tables kept for knowledge time."""
    found = []
    with db.reading() as cur:
        generation, _ = live_generation(cur)
        for name in ("cl_spend_log", "cl_spend_marks", "cl_supplier_names"):
            live = table(name, generation)
            cur.run(f"SELECT COUNT(*) AS n FROM {live}")
            counted = cur.one()
            if db.dialect == "postgres":
                cur.run("SELECT pg_total_relation_size(?::regclass) AS size", [live])
            else:
                # The table and its indexes (the named ones and its primary key's).
                cur.run(
                    "SELECT SUM(pgsize) AS size FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
                    "WHERE tbl_name = ?)",
                    [live],
                )
            sized = cur.one()
            found.append((name, int(counted["n"]) if counted else 0, int(sized["size"] or 0) if sized else 0))
    return found


def main() -> None:
    tune_garbage_collector()  # as the ``caseledger`` command does
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=1_000_000, help="size of the bulk data set")
    parser.add_argument("--demo", action="store_true", help="use the demo municipality instead")
    parser.add_argument("--batch-size", type=int, default=500, help="batch size when following the log")
    parser.add_argument("--rebuild-batch-size", type=int, default=5000, help="batch size of the bulk rebuild")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="time the queries on the read models as they are, no rebuild",
    )
    parser.add_argument("--rebuild-only", action="store_true", help="time the rebuild alone, no queries")
    args = parser.parse_args()

    env = Settings(database_url=args.database_url).storage_env()
    prepare_storage(env)
    ledger = CaseLedger(env)
    if ledger.last_position() == 0:
        started = time.perf_counter()
        if args.demo:
            load_demo(ledger, today=TODAY)
        else:
            generate(
                ledger, events=args.events, progress=lambda n: print(f"\r  generated {n:,} events", end="")
            )
            print()
        print(f"data set: {ledger.last_position():,} events in {time.perf_counter() - started:.0f} s")
    events = ledger.last_position()

    db = ProjectionDatabase.from_env(env)
    runner = ProjectionRunner(
        db, ledger.read_events, batch_size=args.batch_size, rebuild_batch_size=args.rebuild_batch_size
    )
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    rebuilt = 0 if args.queries_only else runner.rebuild()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    load_after = os.getloadavg()[0]
    peak = rss_mb()

    reports = Reports(db)
    queries: dict[str, Callable[[], Any]] = (
        {}
        if args.rebuild_only
        else {
            "supplier overview (municipality 461)": lambda: reports.supplier_overview(
                OverviewQuery(municipality="461"), TODAY
            ),
            "spending, a year by supplier (461)": lambda: reports.spending(
                SpendingQuery(from_month="2025-01", to_month="2025-12", by="supplier", municipality="461")
            ),
            "spending, all months, all municipalities": lambda: reports.spending(SpendingQuery()),
            "practice, a year by supplier (461)": lambda: reports.practice(
                PracticeQuery("2025-01", "2025-12", by="supplier", municipality="461")
            ),
            "practice, a year by month, all municipalities": lambda: reports.practice(
                PracticeQuery("2025-01", "2025-12", by="month")
            ),
            "price benchmarks (all)": lambda: reports.price_benchmarks(BenchmarkQuery(), TODAY),
            "price exceptions, newest 50 (461)": lambda: reports.price_exceptions(
                ExceptionQuery(municipality="461")
            ),
            "price exceptions, newest page of a year (461)": lambda: reports.price_exceptions(
                ExceptionQuery(from_date="2025-01-01", to_date="2025-12-31", municipality="461")
            ),
            "price exceptions, all municipalities (page 1)": lambda: reports.price_exceptions(
                ExceptionQuery()
            ),
            "price lists, stale and missing (461)": lambda: reports.price_lists(
                PriceListQuery(municipality="461"), TODAY
            ),
            "referral list, page 1 of active in 461": lambda: reports.referrals(
                {"status": "active", "municipality": "461"}, 1, 50
            ),
        }
    )
    # One audit trail: a referral from the middle of the list, read from the event store with its
    # stream's chain checked (GET /audit/referrals/{id} without HTTP).
    listed = [] if args.rebuild_only else reports.referrals({"municipality": "461"}, 1, 50)["items"]
    if listed:
        referral_id = UUID(str(listed[len(listed) // 2]["id"]))
        queries["one audit trail (461)"] = lambda: ledger.audit.referral_trail(referral_id)
        # The candidates of that referral (GET /referrals/{id}/candidates without HTTP and without
        # loading the referral): fit on two labels, every supplier of its intervention ranked.
        intervention = str(listed[len(listed) // 2]["intervention"])
        wanted = {"target_groups": ["Børn og unge"], "competencies": ["Familiebehandling", "Traumer"]}
        candidates = CandidateQuery(
            municipality="461",
            intervention=intervention,
            unit=load_reference().intervention(intervention, "intervention").unit,
            prices_on=TODAY,
            today=TODAY,
            requested_hours_centi=300,
            wanted=wanted,
        )
        queries["candidates of one referral (461)"] = lambda: reports.candidates(candidates)
    # The same report as known at earlier positions (``GET /reports/spending?known_at_position=``
    # without HTTP: the read and its basis), from the spending log, not a scratch store.
    known = KnownAt(db, ledger.read_events, ledger.last_position, stores=1)
    year = SpendingQuery(from_month="2025-01", to_month="2025-12", by="supplier", municipality="461")
    just_before_a_mark = events // MARK_EVERY * MARK_EVERY - 1  # the most logged changes to add
    with db.reading() as cur:
        current = live_is_current(cur)
    if not current:  # another version's read models: every known-at read would be a rebuild
        print("the read models are of another version (rebuild them): known-at reads not timed")
    positions = [
        ("half the log", events // 2),
        ("head − 1000", events - 1000),
        (f"{just_before_a_mark:,} (a mark − 1)", just_before_a_mark),
    ]
    for label, position in positions if current else []:

        def known_at(position: int = position) -> Any:
            cut, answer = known.read(position, lambda reports: reports.spending(year))
            return basis_of(ledger, cut), answer

        known_at()
        if known.built:  # the log could not answer: every read would be a rebuild of the prefix
            print(f"spending known at {label}: answered from a scratch store, not timed")
            continue
        queries[f"spending, a year by supplier (461), known at {label}"] = known_at
    print(f"\n{db.dialect}: {events:,} events\n")
    print("| measure | result |")
    print("|---|---|")
    if not args.queries_only:
        print(
            f"| rebuild, all projections | {rebuilt:,} events in {elapsed:.1f} s = **{rebuilt / elapsed:,.0f} events/s** |"
        )
        print(
            f"| CPU time of the rebuilding process | {cpu:.1f} s = {rebuilt / cpu:,.0f} events per CPU-second "
            f"(the database server's own time not counted) |"
        )
        print(
            f"| machine load (1-min average) before / after the rebuild | {load_before:.1f} / {load_after:.1f} |"
        )
        print(f"| peak RSS of the rebuilding process | {peak:.0f} MB |")
    print(f"| CPU speed check (`benchmarks.suite.cpu_speed_ms`; lower is faster) | {cpu_speed_ms():.0f} ms |")
    print(f"| machine load (1-min average) before the queries | {os.getloadavg()[0]:.1f} |")
    for name, run in queries.items():
        p50, p95 = timed(run, args.repeat)
        print(f"| {name} | p50 {p50:.1f} ms, p95 {p95:.1f} ms |")
    print(f"| scratch stores built for the known-at reads | {known.built} |")
    for name, rows, size in knowledge_tables(db):
        print(f"| {name} | {rows:,} rows, {size / 2**20:,.1f} MB |")
    known.close()
    db.close()
    ledger.close()


if __name__ == "__main__":
    main()
