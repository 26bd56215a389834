"""Mapping an instant to a position (``KnownAt.position_at``, the first ``known_at=<instant>`` or
"Kendt pr." read of a new instant): by the recorded-times index, against the scan of the log from
position 0 it replaced; and what writing the index costs a bulk rebuild.

    python -m benchmarks.instants --storage sqlite --events 100000

On a fresh database, ``benchmarks.dataset`` writes about ``--events`` events; a bulk rebuild folds
them (the time spent in ``recorded_times.save`` measured apart), and the live runner folds the
first 20,000 again, 20 at a time, into a spare generation (likewise); then, for instants at 10 %, 50 %
and 90 % of the log (an event's recorded time), the scan from 0 and ``position_at`` of a
``KnownAt`` with nothing cached are timed (best of three) and their answers compared. Prints
Markdown; asserts the answers are equal.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from api.settings import Settings
from application.service.caseledger import CaseLedger
from benchmarks import arguments, use_benchmark_master_key
from benchmarks.dataset import generate
from benchmarks.suite import fresh_database, load_average
from projections import read_models, recorded_times
from projections.database import ProjectionDatabase
from projections.known_at import SCAN_BATCH, KnownAt
from projections.runner import ProjectionRunner
from projections.tables import table

REPEAT = 3
LIVE_EVENTS = 20_000
LIVE_BATCH = 20


def scanned(read_events: Callable[[int, int], Sequence[tuple[int, Any]]], instant: datetime) -> int:
    """The mapping as it was before the index: the log decoded from position 0."""
    position = 0
    while batch := read_events(position, SCAN_BATCH):
        for at, event in batch:
            if event.timestamp > instant:
                return position
            position = at
        if len(batch) < SCAN_BATCH:
            break
    return position


def best_ms(run: Callable[[], int]) -> tuple[float, int]:
    spent, answer = [], 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        answer = run()
        spent.append((time.perf_counter() - started) * 1000)
    return min(spent), answer


def main() -> None:
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--storage", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caseledger-instants-") as directory:
        database = fresh_database(args.storage, Path(directory))
        try:
            env = Settings(database_url=database.url).storage_env()
            ledger = CaseLedger(env)
            db = ProjectionDatabase.from_env(env)
            try:
                generate(ledger, events=args.events)
                head = ledger.last_position()
                saving = [0.0]
                save = recorded_times.save

                def timed_save(cur: Any, generation: int, batch: Any) -> None:
                    started = time.perf_counter()
                    save(cur, generation, batch)
                    saving[0] += time.perf_counter() - started

                recorded_times.save = timed_save  # type: ignore[assignment]
                started = time.perf_counter()
                ProjectionRunner(db, ledger.read_events).rebuild()
                rebuild = time.perf_counter() - started
                # The live fold in small batches (a runner following closely), on a generation of
                # its own that nobody reads: the first LIVE_EVENTS events, LIVE_BATCH at a time.
                with db.transaction() as cur:
                    cur.run("SELECT MAX(generation) AS g FROM cl_generations")
                    found = cur.one()
                    spare = int(found["g"]) + 1 if found else 1
                    read_models.create_generation(cur, spare, live=False)

                def first_events(after: int, limit: int) -> Sequence[tuple[int, Any]]:
                    return [(p, e) for p, e in ledger.read_events(after, limit) if p <= LIVE_EVENTS]

                live_saving = saving[0]
                started = time.perf_counter()
                ProjectionRunner(db, first_events, batch_size=LIVE_BATCH).catch_up(spare)
                live = time.perf_counter() - started
                live_saving = saving[0] - live_saving
                with db.transaction() as cur:
                    read_models.drop_generation(cur, spare)
                recorded_times.save = save  # type: ignore[assignment]
                with db.reading() as cur:
                    generation, _ = read_models.live_generation(cur)
                    cur.run(f"SELECT COUNT(*) AS n FROM {table('cl_recorded_spans', generation)}")
                    row = cur.one()
                spans = int(row["n"]) if row else 0
                print(f"{args.storage}, {head} events, load {load_average()}")
                print(
                    f"bulk rebuild {rebuild:.1f} s, of which recorded_times.save {saving[0] * 1000:.0f} ms "
                    f"({100 * (saving[0] - live_saving) / rebuild:.2f} %); {spans} rows in cl_recorded_spans"
                )
                print(
                    f"live fold of {min(head, LIVE_EVENTS)} events {LIVE_BATCH} at a time {live:.1f} s, of which "
                    f"recorded_times.save {live_saving * 1000:.0f} ms ({100 * live_saving / live:.2f} %)\n"
                )
                print("| instant at | position | scan from 0 | by the index |")
                print("|---|---|---|---|")
                for share in (10, 50, 90):
                    instant = ledger.read_events(head * share // 100 - 1, 1)[0][1].timestamp
                    old_ms, old = best_ms(lambda instant=instant: scanned(ledger.read_events, instant))

                    def indexed(instant: datetime = instant) -> int:
                        known = KnownAt(db, ledger.read_events, ledger.last_position)
                        try:
                            return known.position_at(instant)
                        finally:
                            known.close()

                    new_ms, new = best_ms(indexed)
                    assert new == old, (share, new, old)
                    print(f"| {share} % | {new} | {old_ms:.0f} ms | {new_ms:.1f} ms |")
            finally:
                db.close()
                ledger.close()
        finally:
            database.drop()


if __name__ == "__main__":
    main()
