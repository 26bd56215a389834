"""The projection runner: exactly once, resumable, and a rebuild equals incremental processing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.commands import COMMANDS
from api.schemas import SupplierIn
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext
from domain.referral import Referral
from projections import counters, read_models
from projections import rebuild as rebuild_module
from projections import spending as spending_model
from projections.database import ProjectionDatabase
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from projections.tables import MODEL_TABLES, index_statements, table
from tests.api import bodies
from tests.concurrency import run_together
from tests.projections.helpers import dump, small_demo
from tests.storage import database_url, storage_env


def register(ledger: CaseLedger, body: dict[str, Any]) -> None:
    """Registers a supplier as ``POST /suppliers`` with ``body`` would."""
    COMMANDS["supplier.registered"].run(ledger, None, SupplierIn.model_validate(body), WriteContext())


def runner_for(ledger: CaseLedger, db: ProjectionDatabase, batch_size: int = 97) -> ProjectionRunner:
    return ProjectionRunner(db, ledger.read_events, batch_size=batch_size)


def starting_runner(
    ledger: CaseLedger, db: ProjectionDatabase, backlog: int = 100, **options: Any
) -> ProjectionRunner:
    """A runner that builds in bulk at start when at least ``backlog`` events behind (and most of the log)."""
    return ProjectionRunner(
        db, ledger.read_events, log_head=ledger.last_position, bulk_start_backlog=backlog, **options
    )


def generations(db: ProjectionDatabase) -> list[int]:
    """Every generation of read models in the control table, live or not, oldest first."""
    with db.reading() as cur:
        cur.run("SELECT generation FROM cl_generations ORDER BY generation")
        return [int(row["generation"]) for row in cur.rows()]


def test_catch_up_processes_every_event_and_records_the_last_position(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger)
    runner = runner_for(ledger, projection_db)

    processed = runner.catch_up()

    assert processed == ledger.last_position()
    assert runner.position() == ledger.last_position()


def test_a_runner_behind_folds_its_backlog_in_large_batches_on_postgres_and_500s_on_sqlite(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    """On PostgreSQL a backlog of a bulk load is folded 5,000 events a transaction (cheaper per
    event); on SQLite, whose write lock the writers share, 500."""
    small_demo(ledger, weeks=20, per_week=20)
    backlog = ledger.last_position()
    assert 500 < backlog < 5000
    runner = ProjectionRunner(projection_db, ledger.read_events)

    first = runner.run_once()

    assert first == (backlog if projection_db.dialect == "postgres" else 500)
    assert runner.catch_up() == backlog - first
    assert runner.position() == backlog


def test_spending_rows_equal_the_aggregates_own_commitments(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger)
    runner_for(ledger, projection_db).catch_up()
    expected: dict[str, Decimal] = {}
    for _, event in ledger.read_events(0, 1_000_000):
        if isinstance(event, Referral.Referred):
            for month, amount in ledger.get_referral(event.originator_id).monthly_commitments().items():
                expected[month] = expected.get(month, Decimal("0.00")) + amount

    report = Reports(projection_db).spending(SpendingQuery())

    assert {row["month"]: Decimal(row["amount"]) for row in report["rows"]} == expected
    assert Decimal(report["total"]) == sum(expected.values())


def test_the_live_runner_has_its_tables_analysed_as_they_grow(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the first ``analyse_after`` events and then at each doubling of the events folded,
    so that PostgreSQL plans the fold's look-ups for the tables' real size (SQLite needs none)."""
    small_demo(ledger)
    analysed_at: list[int] = []
    original = read_models.analyse

    def counted(db: ProjectionDatabase, generation: int) -> None:
        analysed_at.append(runner.folded)
        original(db, generation)

    monkeypatch.setattr(read_models, "analyse", counted)
    runner = ProjectionRunner(projection_db, ledger.read_events, batch_size=10, analyse_after=10)

    runner.catch_up()

    assert len(analysed_at) >= 4
    assert analysed_at == [10 * 2**k for k in range(len(analysed_at))]
    assert 2 * analysed_at[-1] > ledger.last_position() >= analysed_at[-1]
    if projection_db.dialect == "postgres":
        with projection_db.reading() as cur:
            generation, _ = read_models.live_generation(cur)
            cur.run("SELECT reltuples FROM pg_class WHERE oid = ?::regclass", [f"cl_spending_g{generation}"])
            row = cur.one()
        assert row is not None and row["reltuples"] > 0  # -1 until the table is first analysed


def test_incremental_processing_and_a_rebuild_give_identical_tables(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger)
    runner = runner_for(ledger, projection_db, batch_size=13)
    runner.catch_up()
    incremental = dump(projection_db)

    rebuilt = runner_for(ledger, projection_db, batch_size=500).rebuild()

    assert rebuilt == ledger.last_position()
    assert dump(projection_db) == incremental
    with projection_db.reading() as cur:
        cur.run("SELECT COUNT(*) AS n FROM cl_generations")
        assert cur.one() == {"n": 1}


def test_a_rebuild_ends_with_every_secondary_index_and_on_postgres_every_table_vacuumed(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    """The bulk build leaves the indexes out and adds them at its end (on PostgreSQL two tables at a
    time, each then vacuumed and analysed): none may be missed."""
    small_demo(ledger)

    runner_for(ledger, projection_db).rebuild()

    with projection_db.reading() as cur:
        generation, _ = read_models.live_generation(cur)
        expected = {
            statement.split(" EXISTS ", 1)[1].split()[0] for statement in index_statements(generation)
        }
        if projection_db.dialect == "postgres":
            cur.run("SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            cur.run("SELECT name FROM sqlite_master WHERE type = 'index'")
        present = {row["name"] for row in cur.rows()}
        assert expected and expected <= present
        if projection_db.dialect == "postgres":
            cur.run(
                "SELECT relname, last_vacuum, last_analyze FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND relname = ANY(?)",
                [[table(name, generation) for name in MODEL_TABLES]],
            )
            rows = cur.rows()
            assert len(rows) == len(MODEL_TABLES)
            assert all(row["last_vacuum"] is not None and row["last_analyze"] is not None for row in rows)


def test_a_bulk_rebuild_that_writes_its_summaries_in_several_stages_equals_incremental_processing(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Summary deltas gathered across batches are written whenever many are pending (here: every
    few batches), not only at the end."""
    small_demo(ledger)
    runner_for(ledger, projection_db, batch_size=13).catch_up()
    incremental = dump(projection_db)
    monkeypatch.setattr(rebuild_module, "PENDING_LIMIT", 40)
    flushes = {"n": 0}
    original = counters.Deltas.flush

    def counted_flush(self: counters.Deltas, cur: Any) -> None:
        flushes["n"] += 1
        original(self, cur)

    monkeypatch.setattr(counters.Deltas, "flush", counted_flush)

    rebuilt = ProjectionRunner(projection_db, ledger.read_events, rebuild_batch_size=37).rebuild()

    assert rebuilt == ledger.last_position()
    assert flushes["n"] > 3
    assert dump(projection_db) == incremental


def test_a_batch_that_fails_midway_leaves_nothing_and_is_redone_exactly_once(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_demo(ledger)
    reference_runner = runner_for(ledger, projection_db)
    reference_runner.catch_up()
    expected = dump(projection_db)
    with projection_db.transaction() as cur:
        generation, _ = read_models.live_generation(cur)
        read_models.drop_generation(cur, generation)
    read_models.ensure_control(projection_db)

    original = read_models.apply_batch
    calls = {"n": 0}

    def crash_on_third_batch(cur: Any, generation: int, batch: Any, **options: Any) -> None:
        calls["n"] += 1
        original(cur, generation, batch, **options)
        if calls["n"] == 3:
            raise RuntimeError("killed in the middle of a batch")

    monkeypatch.setattr(read_models, "apply_batch", crash_on_third_batch)
    runner = runner_for(ledger, projection_db)
    with pytest.raises(RuntimeError):
        runner.catch_up()
    position_after_crash = runner.position()
    monkeypatch.setattr(read_models, "apply_batch", original)

    runner.catch_up()

    assert position_after_crash == 2 * 97
    assert dump(projection_db) == expected


def test_two_runners_racing_on_the_same_log_count_each_event_once(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger)
    runners = [runner_for(ledger, projection_db, batch_size=29) for _ in range(2)]
    barrier = threading.Barrier(2)

    def run(runner: ProjectionRunner) -> None:
        barrier.wait()
        runner.catch_up()

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    raced = dump(projection_db)

    runners[0].rebuild()

    assert dump(projection_db) == raced


def test_runners_starting_at_once_on_a_new_database_make_one_live_generation(
    ledger: CaseLedger, db_url: str
) -> None:
    """API workers and a projections process start together (each after opening the event store, as
    ``ledger`` has); none may fail on creating the read models' tables."""
    env = storage_env(db_url)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def start() -> None:
        db = ProjectionDatabase.from_env(env)
        try:
            barrier.wait()
            ProjectionRunner(db, lambda after, limit: [])
        except BaseException as error:
            failures.append(error)
        finally:
            db.close()

    run_together(start, 4)

    assert failures == []
    db = ProjectionDatabase.from_env(env)
    try:
        with db.reading() as cur:
            cur.run("SELECT generation FROM cl_generations WHERE live = 1")
            assert len(cur.rows()) == 1
    finally:
        db.close()


def test_a_following_runner_gathers_commits_that_arrive_while_it_waits_into_few_batches(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 commits 10 ms apart: without gathering the runner would fold about one batch per commit;
    gathering for 0.5 s after each batch folds them in a few, each event still exactly once."""
    batches: list[int] = []
    original = read_models.apply_batch

    def counted(cur: Any, generation: int, batch: Any, deltas: Any = None) -> None:
        batches.append(len(batch))
        original(cur, generation, batch, deltas)

    monkeypatch.setattr(read_models, "apply_batch", counted)
    runner = ProjectionRunner(
        projection_db, ledger.read_events, notify_channel=ledger.notify_channel, gather=0.5
    )
    with following(runner):
        time.sleep(0.3)  # idle, listening
        for _ in range(20):
            body = bodies.supplier()
            register(ledger, body)
            time.sleep(0.01)
        head = ledger.last_position()
        wait_until(lambda: runner.position() == head, timeout=10)

    assert sum(batches) == head == 20
    assert len(batches) <= 5, batches
    gathered = dump(projection_db)
    runner.rebuild()
    assert dump(projection_db) == gathered


@contextmanager
def following(runner: ProjectionRunner) -> Iterator[None]:
    stop = threading.Event()
    follower = threading.Thread(target=runner.run_forever, args=(stop,))
    follower.start()
    try:
        yield
    finally:
        stop.set()
        runner.interrupt()
        follower.join(timeout=10)
    assert not follower.is_alive()


def wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_following_runner_sees_a_write_from_another_process_quickly(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    """PostgreSQL wakes it by NOTIFY (the fallback poll here is 30 s); SQLite polls every 50 ms."""
    runner = ProjectionRunner(
        projection_db, ledger.read_events, listen_timeout=30.0, notify_channel=ledger.notify_channel
    )
    with following(runner):
        time.sleep(0.3)  # idle, listening
        small_demo(ledger, weeks=1, per_week=1, suppliers=3)
        head = ledger.last_position()
        wait_until(lambda: runner.position() >= head, timeout=5)
        assert runner.position() == head


def test_a_runner_rebuilds_read_models_built_by_an_older_version_when_it_starts(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger, weeks=2, per_week=5, suppliers=4)
    runner = runner_for(ledger, projection_db)
    runner.catch_up()
    expected = dump(projection_db)
    with projection_db.transaction() as cur:
        cur.run("UPDATE cl_generations SET models_version = 0 WHERE live = 1")
        generation, _ = read_models.live_generation(cur)
        cur.run(f"DELETE FROM cl_decisions_g{generation}")
    stop = threading.Event()
    stop.set()  # start, do what is due at start, then stop

    runner.run_forever(stop)

    with projection_db.reading() as cur:
        assert read_models.live_is_current(cur)
        assert read_models.live_generation(cur)[0] == generation + 1
    assert dump(projection_db) == expected


def test_a_report_read_begun_before_a_rebuild_switched_reads_the_old_tables_to_its_end(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report reads which generation is live, then that generation's tables: the old tables are
    dropped only after such reads have finished (on PostgreSQL the drop waits for them; SQLite's
    readers keep their snapshot)."""
    small_demo(ledger, weeks=2, per_week=5, suppliers=4)
    runner_for(ledger, projection_db).catch_up()
    switched = threading.Event()
    original = read_models.wait_for_readers

    def signalled(cur: Any) -> None:
        switched.set()  # the new generation is live; the old one is about to be dropped
        original(cur)

    monkeypatch.setattr(read_models, "wait_for_readers", signalled)
    rebuilding = threading.Thread(target=runner_for(ledger, projection_db).rebuild)
    try:
        with projection_db.reading() as cur:
            old, _ = read_models.live_generation(cur)
            rebuilding.start()
            assert switched.wait(timeout=30)
            time.sleep(0.5)  # time enough for a drop that does not wait to have happened
            cur.run(f"SELECT COUNT(*) AS n FROM {table(MODEL_TABLES[0], old)}")
            assert cur.one()["n"] > 0
    finally:
        rebuilding.join(timeout=30)
    assert not rebuilding.is_alive()
    assert generations(projection_db) == [old + 1]


def test_a_rebuild_does_not_wait_for_ever_on_a_report_read_that_holds_the_old_tables(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read held longer than ``READERS_WAIT_SECONDS`` keeps the old tables (on PostgreSQL: they
    stay until the runner's next start); the rebuild itself completes, and the new generation is
    live."""
    small_demo(ledger, weeks=2, per_week=5, suppliers=4)
    runner_for(ledger, projection_db).catch_up()
    monkeypatch.setattr(read_models, "READERS_WAIT_SECONDS", 1)
    failures: list[BaseException] = []
    rebuilder = runner_for(ledger, projection_db)

    def rebuild() -> None:
        try:
            rebuilder.rebuild()
        except BaseException as error:
            failures.append(error)

    rebuilding = threading.Thread(target=rebuild)
    with projection_db.reading() as cur:
        old, _ = read_models.live_generation(cur)
        rebuilding.start()
        rebuilding.join(timeout=60)
        assert not rebuilding.is_alive()
        cur.run(f"SELECT COUNT(*) AS n FROM {table(MODEL_TABLES[0], old)}")
        assert cur.one()["n"] > 0
    assert failures == []
    stop = threading.Event()
    stop.set()

    runner_for(ledger, projection_db).run_forever(stop)  # a start drops what is left

    with projection_db.reading() as cur:
        assert read_models.live_generation(cur)[0] == old + 1
    assert generations(projection_db) == [old + 1]


def test_a_bulk_build_at_start_that_fails_is_dropped_and_the_runner_catches_up_instead(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_demo(ledger)
    head = ledger.last_position()
    original = read_models.apply_batch

    def failing_in_the_new_generation(cur: Any, generation: int, batch: Any, deltas: Any = None) -> None:
        if generation == 2:
            raise RuntimeError("a fold that fails")
        original(cur, generation, batch, deltas)

    monkeypatch.setattr(read_models, "apply_batch", failing_in_the_new_generation)
    runner = starting_runner(ledger, projection_db)

    with following(runner):
        wait_until(lambda: runner.position() == head, timeout=30)

    with projection_db.reading() as cur:
        assert read_models.live_generation(cur) == (1, head)
        cur.run(f"SELECT COUNT(*) AS n FROM {table(MODEL_TABLES[0], 1)}")
        assert cur.one()["n"] > 0
    assert generations(projection_db) == [1]


def test_a_runner_that_starts_with_most_of_the_log_to_fold_builds_the_read_models_in_bulk_then_follows(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    """As after ``caseledger import`` into a new store: nothing folded yet. The runner builds a new
    generation in bulk, as a rebuild does, switches to it, drops the old ones and follows the log;
    the tables are those that folding the log batch by batch gives."""
    small_demo(ledger)
    runner_for(ledger, projection_db).catch_up()
    expected = dump(projection_db)
    with projection_db.transaction() as cur:  # live read models that have folded nothing
        read_models.create_generation(cur, 2, live=False)
        cur.run("UPDATE cl_generations SET live = CASE WHEN generation = 2 THEN 1 ELSE 0 END")
    head = ledger.last_position()
    runner = starting_runner(ledger, projection_db)

    with following(runner):
        wait_until(lambda: runner.position() == head, timeout=30)
        with projection_db.reading() as cur:
            assert read_models.live_generation(cur) == (3, head)
        assert dump(projection_db) == expected
        body = bodies.supplier()
        register(ledger, body)
        wait_until(lambda: runner.position() == head + 1, timeout=10)
        assert runner.position() == head + 1

    assert generations(projection_db) == [3]  # the old ones were dropped before it followed


@pytest.mark.parametrize("case", ["half of the log folded", "a backlog under the threshold"])
def test_a_runner_with_less_to_fold_catches_up_batch_by_batch(
    ledger: CaseLedger, projection_db: ProjectionDatabase, case: str
) -> None:
    small_demo(ledger)
    head = ledger.last_position()
    threshold = 100
    if case == "half of the log folded":
        ProjectionRunner(projection_db, ledger.read_events, batch_size=head // 2).run_once()
    else:
        threshold = head + 1
    runner = starting_runner(ledger, projection_db, backlog=threshold)

    with following(runner):
        wait_until(lambda: runner.position() == head, timeout=30)

    with projection_db.reading() as cur:
        assert read_models.live_generation(cur) == (1, head)


@pytest.mark.parametrize("when", ["after its first batch", "in its finishing steps"])
def test_a_bulk_build_at_start_stops_when_asked_and_leaves_the_read_models_as_they_were(
    ledger: CaseLedger, projection_db: ProjectionDatabase, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Stopping the process must not wait for a build of the whole log: it stops after the batch or
    finishing step in hand, drops what it built, and the next start begins again."""
    small_demo(ledger)
    stop = threading.Event()
    steps: list[str] = []
    if when == "after its first batch":
        original_batch = read_models.apply_batch

        def stop_after_the_first(cur: Any, generation: int, batch: Any, deltas: Any = None) -> None:
            original_batch(cur, generation, batch, deltas)
            steps.append(f"batch {generation}")
            stop.set()

        monkeypatch.setattr(read_models, "apply_batch", stop_after_the_first)
    else:
        original_finish = read_models.finish_bulk
        original_indexes = read_models.add_indexes

        def finish_asked_to_stop(db: Any, generation: int, step_done: Any = None) -> None:
            stop.set()
            steps.append("roll-ups")
            original_finish(db, generation, step_done)

        def indexes(db: Any, generation: int, step_done: Any = None) -> None:
            steps.append("indexes")
            original_indexes(db, generation, step_done)

        monkeypatch.setattr(read_models, "finish_bulk", finish_asked_to_stop)
        monkeypatch.setattr(read_models, "add_indexes", indexes)
    runner = starting_runner(ledger, projection_db, rebuild_batch_size=37)

    runner.run_forever(stop)  # returns once stopped

    assert steps == (["batch 2"] if when == "after its first batch" else ["roll-ups"])
    with projection_db.reading() as cur:
        cur.run("SELECT generation, position, live FROM cl_generations")
        assert [(int(r["generation"]), int(r["position"]), int(r["live"])) for r in cur.rows()] == [(1, 0, 1)]
        if projection_db.dialect == "postgres":
            cur.run(
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
        else:
            cur.run("SELECT name FROM sqlite_master WHERE type = 'table'")
        present = {row["name"] for row in cur.rows()}
    assert present & {table(name, 1) for name in MODEL_TABLES} == {table(name, 1) for name in MODEL_TABLES}
    assert not present & {table(name, 2) for name in MODEL_TABLES}


@pytest.mark.parametrize("by", [None, "supplier", "intervention", "legal_basis", "municipality"])
def test_spending_from_the_rollups_equals_spending_from_the_referral_rows(
    ledger: CaseLedger, projection_db: ProjectionDatabase, by: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_demo(ledger)
    runner_for(ledger, projection_db, batch_size=31).catch_up()
    reports = Reports(projection_db)
    queries = [
        SpendingQuery(by=by),
        SpendingQuery(by=by, municipality="461", from_month="2026-03", to_month="2026-05"),
        SpendingQuery(by=by, intervention="family-treatment"),
        SpendingQuery(by=by, legal_basis="BL-32-1-2"),
    ]
    from_rollups = [reports.spending(query) for query in queries]

    monkeypatch.setattr(
        spending_model, "_source", lambda query: ("cl_spending", spending_model.GROUPINGS.get(query.by or ""))
    )
    from_rows = [reports.spending(query) for query in queries]

    assert from_rollups == from_rows
    assert from_rollups[0]["rows"]


def test_a_control_table_from_before_versions_is_upgraded_and_its_models_rebuilt(
    ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    small_demo(ledger, weeks=2, per_week=5, suppliers=4)
    with projection_db.transaction() as cur:
        cur.run(
            "CREATE TABLE cl_generations (generation INTEGER PRIMARY KEY, position BIGINT NOT NULL, "
            "live INTEGER NOT NULL, created_at TEXT NOT NULL)"
        )
        cur.run("INSERT INTO cl_generations VALUES (7, 0, 1, '2026-11-01T00:00:00+00:00')")
        for statement in read_models.model_statements(7):
            cur.run(statement)

    runner = runner_for(ledger, projection_db)
    stop = threading.Event()
    stop.set()
    runner.run_forever(stop)

    with projection_db.reading() as cur:
        assert read_models.live_is_current(cur)
        assert read_models.live_generation(cur) == (8, ledger.last_position())


@pytest.mark.postgres
def test_on_postgres_the_tables_updated_in_place_leave_room_on_their_pages(tmp_path: Path) -> None:
    """So that an update changing no indexed column stays on its page (HOT) and writes no index."""
    with database_url("postgres", tmp_path) as url:
        ledger = CaseLedger(storage_env(url))
        db = ProjectionDatabase.from_env(storage_env(url))
        try:
            small_demo(ledger, weeks=1, per_week=2, suppliers=2)
            runner_for(ledger, db).catch_up()
            with db.reading() as cur:
                cur.run(
                    "SELECT c.relname, c.reloptions FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE ?",
                    ["cl\\_%\\_g%"],
                )
                options = {row["relname"].rsplit("_g", 1)[0]: row["reloptions"] or [] for row in cur.rows()}
        finally:
            db.close()
            ledger.close()

    assert {name for name, found in options.items() if "fillfactor=70" in found} == set(
        read_models.UPDATED_IN_PLACE
    )
