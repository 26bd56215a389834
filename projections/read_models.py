"""All read models together: their generations (created, made live, dropped), the fold of a batch
of events into their tables in one transaction, and the end of a bulk build. Each report's query
is in its read model's module; ``projections.reports`` answers them from the live generation."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from psycopg.sql import SQL, Identifier

from domain.referral import Referral
from domain.supplier import Supplier
from projections import (
    counters,
    decision_log,
    practice,
    price_benchmarks,
    recorded_times,
    referral_list,
    spending,
    spending_log,
    supplier_overview,
    supplier_profile,
    supplier_record,
)
from projections.database import Cursor, PostgresProjectionDatabase, ProjectionDatabase
from projections.tables import (
    CONTROL,
    FILLFACTOR,
    MODEL_TABLES,
    MODELS_VERSION,
    UPDATED_IN_PLACE,
    drop_statements,
    index_statements,
    index_statements_by_table,
    model_statements,
    table,
)
from projections.topics import REFERRED, REGISTERED

Batch = Sequence[tuple[int, Any]]


def ensure_control(db: ProjectionDatabase) -> None:
    """Create the control table, and a first live generation if there is none."""
    with db.transaction() as cur:
        if db.dialect == "postgres":
            # API workers and a projections process starting at once would race on CREATE TABLE IF
            # NOT EXISTS (PostgreSQL raises on the loser) and on the first generation; take turns.
            cur.run("SELECT pg_advisory_xact_lock(hashtext('cl_generations ' || current_schema()))")
        for statement in CONTROL:
            cur.run(statement)
        _add_models_version(cur, db.dialect)
        cur.run("SELECT generation FROM cl_generations WHERE live = 1")
        if cur.one() is None:
            cur.run("SELECT COALESCE(MAX(generation), 0) AS g FROM cl_generations")
            found = cur.one()
            generation = int(found["g"]) + 1 if found else 1
            create_generation(cur, generation, live=True)


def _add_models_version(cur: Cursor, dialect: str) -> None:
    """Control tables made before read models carried a version get the column (as version 1). The
    columns are looked up first: on PostgreSQL an ALTER TABLE locks the table even when the column
    is there, and every runner starts here."""
    if dialect == "postgres":
        cur.run(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'cl_generations'"
        )
    else:
        cur.run("PRAGMA table_info(cl_generations)")
    if "models_version" not in {row["name"] for row in cur.rows()}:
        cur.run("ALTER TABLE cl_generations ADD COLUMN models_version INTEGER NOT NULL DEFAULT 1")


def create_generation(cur: Cursor, generation: int, *, live: bool, indexes: bool = True) -> None:
    """Tables for a new generation; a bulk build leaves out the secondary indexes (``add_indexes``)."""
    for statement in model_statements(generation, indexes=indexes):
        cur.run(statement)
    if cur.dialect == "postgres":
        for name in UPDATED_IN_PLACE:
            cur.run(f"ALTER TABLE {table(name, generation)} SET (fillfactor = {FILLFACTOR})")
    cur.run(
        "INSERT INTO cl_generations (generation, position, live, created_at, models_version) VALUES (?, 0, ?, ?, ?)",
        [generation, 1 if live else 0, datetime.now(UTC).isoformat(), MODELS_VERSION],
    )


def live_is_current(cur: Cursor) -> bool:
    """Whether the live generation was built by this version of the read models."""
    cur.run("SELECT models_version FROM cl_generations WHERE live = 1")
    row = cur.one()
    return row is not None and int(row["models_version"]) == MODELS_VERSION


READERS_WAIT_SECONDS = 30
"""How long dropping old generations tries to get past the report reads still using them (then
they stay until the next start or rebuild): reads take milliseconds, so only a stuck one holds the
drop up this long."""
READERS_WAIT_ATTEMPT = "100ms"
"""How long one attempt waits in line for those reads; reads that begin meanwhile wait behind it."""


def wait_for_readers(cur: Cursor) -> None:
    """Before old generations are dropped after a switch: wait until every report read that found
    one of them live has finished with its tables. On PostgreSQL such a read holds a share lock on
    ``cl_generations`` from reading which generation is live to its end, and a drop that did not
    wait would leave it reading a table that no longer exists. One attempt waits at most
    ``READERS_WAIT_ATTEMPT`` (``LockNotAvailable``; the caller tries again), so that the reads
    queued behind it are held up no longer. SQLite's readers keep the snapshot they began with."""
    if cur.dialect == "postgres":
        cur.run("SELECT set_config('lock_timeout', ?, true)", [READERS_WAIT_ATTEMPT])
        cur.run("LOCK TABLE cl_generations IN ACCESS EXCLUSIVE MODE")


def generations_before(cur: Cursor, generation: int) -> list[int]:
    """The generations numbered below ``generation``, oldest first."""
    cur.run("SELECT generation FROM cl_generations WHERE generation < ? ORDER BY generation", [generation])
    return [int(row["generation"]) for row in cur.rows()]


def drop_generation(cur: Cursor, generation: int) -> None:
    # The control row first: the lock order of a drop after a switch (cl_generations, then tables).
    cur.run("DELETE FROM cl_generations WHERE generation = ?", [generation])
    for statement in drop_statements(generation):
        cur.run(statement)


def live_generation(cur: Cursor) -> tuple[int, int]:
    """``(generation, position)`` of the live read models."""
    cur.run("SELECT generation, position FROM cl_generations WHERE live = 1")
    row = cur.one()
    if row is None:
        msg = "no live projection generation; run ensure_control first"
        raise LookupError(msg)
    return int(row["generation"]), int(row["position"])


def generation_position(cur: Cursor, generation: int) -> int | None:
    cur.run("SELECT position FROM cl_generations WHERE generation = ?", [generation])
    row = cur.one()
    return int(row["position"]) if row else None


def apply_batch(cur: Cursor, generation: int, batch: Batch, deltas: counters.Deltas | None = None) -> None:
    """Fold events (positions ascending) into one generation's tables and record the last position.

    Rows touched by the batch are loaded in one query per table, folded in memory, and written back
    set-wise, all in the caller's transaction together with the tracking position. The batch's
    changes to the summary tables are written too, unless the caller passes ``deltas`` to collect
    them in: a bulk build, of a generation nobody reads yet, writes them once every many batches,
    and leaves the spending roll-ups to ``finish_bulk``, which sums them from the monthly rows.
    A batch that passes the position of a mark of the spending log (``spending_log.mark``) is
    folded in parts, and the mark written where it falls. The recorded times of its spans of
    positions (``recorded_times``) are written with it.
    """
    if not batch:
        return
    start = 0
    for marked in spending_log.marks_in(generation_position(cur, generation) or 0, batch[-1][0]):
        end = bisect_right(batch, marked, key=itemgetter(0))
        _fold(cur, generation, batch[start:end], deltas)
        spending_log.mark(cur, generation, marked, deltas)
        start = end
    _fold(cur, generation, batch[start:], deltas)
    recorded_times.save(cur, generation, batch)
    cur.run("UPDATE cl_generations SET position = ? WHERE generation = ?", [batch[-1][0], generation])


def _fold(cur: Cursor, generation: int, batch: Batch, deltas: counters.Deltas | None) -> None:
    """``apply_batch`` but for the tracking position and the marks."""
    if not batch:
        return
    keyed = [(position, str(event.originator_id), event) for position, event in batch]
    referral_ids, supplier_ids = _stored_ids(keyed)
    referrals = referral_list.load(cur, generation, referral_ids)
    suppliers = supplier_overview.load(cur, generation, supplier_ids)
    profiles = supplier_profile.load(cur, generation, supplier_ids)
    practices = practice.load(cur, generation, referral_ids)
    touched_referrals: dict[str, referral_list.ReferralRow] = {}
    touched_suppliers: dict[str, supplier_overview.SupplierRow] = {}
    touched_profiles: dict[str, supplier_profile.Profile] = {}
    decisions = []
    bulk = deltas is not None
    pending = deltas if deltas is not None else counters.Deltas()
    for position, key, event in keyed:
        if isinstance(event, Referral.Event):
            before = referrals.get(key)
            last_day = before.terms.last_day if before is not None and before.terms is not None else None
            row = referral_list.fold(before, event, position)
            spending_log.step(row, event, position, last_day)
            referrals[key] = touched_referrals[key] = row
            decisions.append(decision_log.row_for(event, position, row))
            supplier_record.count(event, row, pending, generation)
            practices[key] = practice.fold(practices.get(key), event)
        elif isinstance(event, Supplier.Event):
            supplier = supplier_overview.fold(suppliers.get(key), event)
            suppliers[key] = touched_suppliers[key] = supplier
            if (profile := supplier_profile.fold(profiles.get(key), event)) is not None:
                profiles[key] = touched_profiles[key] = profile
    touched = list(touched_referrals.values())
    referral_list.save(cur, generation, touched)
    logged = spending.save(cur, generation, touched, None if bulk else pending)
    spending_log.save(cur, generation, logged, deltas)
    spending_log.save_names(cur, generation, [(p, e) for p, _, e in keyed if isinstance(e, Supplier.Event)])
    supplier_overview.save_caseload(generation, touched, pending)
    supplier_overview.save_hours(cur, generation, touched)
    price_benchmarks.save_agreed(generation, touched, pending)
    price_benchmarks.save_own_costs(cur, generation, [event for _, _, event in keyed])
    supplier_overview.save(cur, generation, list(touched_suppliers.values()))
    supplier_profile.save(cur, generation, list(touched_profiles.values()))
    decision_log.save(cur, generation, decisions)
    practice.save(cur, generation, [practices[key] for key in touched_referrals])
    if not bulk:
        pending.flush(cur)


def _stored_ids(keyed: list[tuple[int, str, Any]]) -> tuple[set[str], set[str]]:
    """The referrals and the suppliers a batch's events touch that have a stored row to load: not
    those it creates. In one pass, with one ``isinstance`` per event at most against the events'
    abstract classes (three passes cost a bulk build about a second per million events more)."""
    referral_ids: set[str] = set()
    supplier_ids: set[str] = set()
    created: set[str] = set()
    for _, key, event in keyed:
        topic = type(event).TOPIC
        if isinstance(event, Referral.Event):
            (created if topic == REFERRED else referral_ids).add(key)
        elif isinstance(event, Supplier.Event):
            (created if topic == REGISTERED else supplier_ids).add(key)
    return referral_ids - created, supplier_ids - created


def finish_bulk(db: ProjectionDatabase, generation: int, step_done: Callable[[], None] | None = None) -> None:
    """What a bulk build (``apply_batch`` with ``deltas``) left to the end: the spending roll-ups,
    each one ``INSERT … SELECT … GROUP BY`` over the monthly rows, instead of four dictionary
    updates per referral and month in Python. Each in a transaction of its own: the generation is
    not live yet, and on SQLite the four in one held the write lock, which the event store shares,
    for long. On PostgreSQL two run at once, on connections of their own (one at a time the server
    used one core of two while this process waited). What each choice was measured at:
    docs/benchmarks.md, "Figures behind choices in the code". ``step_done`` is called after each and
    may raise to stop the build there."""
    statements = spending.rollup_statements(generation)
    if isinstance(db, PostgresProjectionDatabase):

        def roll_up(statement: str) -> None:
            with db.listen_connection() as connection:
                connection.execute(statement)  # autocommit: a transaction of its own

        _on_finishing_connections(roll_up, statements, step_done)
        return
    for statement in statements:
        with db.transaction() as cur:
            cur.run(statement)
        if step_done:
            step_done()


def add_indexes(db: ProjectionDatabase, generation: int, step_done: Callable[[], None] | None = None) -> None:
    """End a bulk build: add the secondary indexes left out of its tables (one sorted build each,
    instead of maintaining them row by row). On SQLite each index is built in its own transaction,
    so that the write lock, which the event store shares, is never held for long. On PostgreSQL
    each table's indexes are built and the table then vacuumed and analysed, so that the first
    reports after the switch have planner statistics and index-only scans (a visibility map)
    without waiting for autovacuum; the tables are done two at a time, on connections of their
    own, largest first: one at a time the server used one core of two while this process waited
    (measured: docs/benchmarks.md, "Figures behind choices in the code"). ``step_done`` is called after each index (SQLite) or table (PostgreSQL)
    and may raise to stop the build there."""
    if not isinstance(db, PostgresProjectionDatabase):
        for statement in index_statements(generation):
            with db.transaction() as cur:
                cur.run(statement)
            if step_done:
                step_done()
        return
    indexes = index_statements_by_table(generation)
    with db.listen_connection() as connection:
        found = connection.execute(
            "SELECT relname, pg_relation_size(oid) FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(%s)",
            [[table(name, generation) for name in MODEL_TABLES]],
        ).fetchall()
    size_of = {str(relname): int(size) for relname, size in found}
    sizes = {name: size_of.get(table(name, generation), 0) for name in MODEL_TABLES}

    def finish(name: str) -> None:
        with db.listen_connection() as connection:
            for statement in indexes[name]:
                connection.execute(statement)
            connection.execute(SQL("VACUUM (ANALYZE) {0}").format(Identifier(table(name, generation))))

    _on_finishing_connections(finish, sorted(MODEL_TABLES, key=sizes.__getitem__, reverse=True), step_done)


def _on_finishing_connections(
    work: Callable[[str], None], items: Sequence[str], step_done: Callable[[], None] | None
) -> None:
    """``work`` on each of ``items``, ``FINISHING_CONNECTIONS`` at a time in that order, each on a
    thread of its own; ``step_done`` after each, in order."""
    pool = ThreadPoolExecutor(FINISHING_CONNECTIONS, thread_name_prefix="rebuild-finish")
    try:
        for done in [pool.submit(work, item) for item in items]:
            done.result()
            if step_done:
                step_done()
    finally:
        # On a failure (or Ctrl-C) the items not yet started are left, not done before it is raised.
        pool.shutdown(wait=True, cancel_futures=True)


FINISHING_CONNECTIONS = 2
"""Tables a PostgreSQL bulk build indexes and vacuums at once: measured on a 2-core machine, where
the server built these tables' indexes one core at a time (they are below the sizes at which it
builds an index in parallel)."""


def analyse(db: ProjectionDatabase, generation: int) -> None:
    """Give PostgreSQL's planner current statistics of a generation's tables while a bulk build
    fills them (after batch 1, 2, 4, 8, …, skipped while the previous one still runs), or while
    the live runner does (``ANALYSE_AFTER``): without them, and with autovacuum off or behind, it
    plans the look-ups as if the tables were still empty, or as scans of them whole. SQLite needs
    none."""
    if isinstance(db, PostgresProjectionDatabase):
        # On a connection of its own, outside the caller's transaction: a bulk build analyses on a
        # second thread while it goes on folding.
        with db.listen_connection() as connection:
            for name in MODEL_TABLES:
                connection.execute(SQL("ANALYZE {0}").format(Identifier(table(name, generation))))
