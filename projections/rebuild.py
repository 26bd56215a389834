"""Building the read models anew: a new generation folded in bulk beside the live one from position
0, then switched to, and the generations it replaces dropped once the reads using them are done.

``Rebuilding`` is the part of ``ProjectionRunner`` (``projections.runner``) that does it; the
runner's catch-up loop folds what the log gained meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg

from projections import counters, read_models
from projections.database import Cursor, ProjectionDatabase

log = logging.getLogger("caseledger.projections")

PENDING_LIMIT = 200_000
"""How many summary keys a bulk build gathers in memory before it writes them (bounds its memory)."""

RETRY_DROP_PAUSE_SECONDS = 0.05
"""The pause between two attempts to drop old generations past the report reads using them."""


class Rebuilding:
    """Rebuilds the read models of ``db`` from ``read_events`` (set by ``ProjectionRunner``)."""

    db: ProjectionDatabase
    read_events: Callable[[int, int], read_models.Batch]
    rebuild_batch_size: int

    def catch_up(self, generation: int | None = None, progress: Callable[[int], None] | None = None) -> int:
        """Fold the log's remaining events into ``generation`` (``ProjectionRunner.catch_up``)."""
        raise NotImplementedError

    def _locked_position(self, cur: Cursor, generation: int) -> int | None:
        lock = " FOR UPDATE" if self.db.dialect == "postgres" else ""
        cur.run(f"SELECT position FROM cl_generations WHERE generation = ?{lock}", [generation])
        row = cur.one()
        return int(row["position"]) if row else None

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Build the next generation from position 0 beside the live one, then switch to it.

        The new generation is built in bulk: large batches, into tables without secondary indexes
        (added in one go at the end), with the summary tables' deltas gathered in memory across
        batches (so a key is written once, not once per batch); events stored meanwhile are then
        folded the ordinary way. Reports keep answering from the old generation until the switch,
        one transaction after the new one has caught up; a running live runner then follows the new
        generation, and the old tables are dropped — with those of any earlier rebuild that was
        killed before it switched.
        """
        with self.db.transaction() as cur:
            cur.run("SELECT COALESCE(MAX(generation), 0) AS g FROM cl_generations")
            found = cur.one()
            new = int(found["g"]) + 1 if found else 1
            read_models.create_generation(cur, new, live=False, indexes=False)
        pending = counters.Deltas()
        # After each finishing step, a point at which the caller may stop the build (``BuildStopped``).
        step_done = (lambda: progress(0)) if progress else None
        try:
            done = self._bulk_catch_up(new, pending, progress)
            with self.db.transaction() as cur:
                pending.flush(cur)
            read_models.finish_bulk(self.db, new, step_done)
            read_models.add_indexes(self.db, new, step_done)
            done += self.catch_up(new, progress)
            with self.db.transaction() as cur:
                old, _ = read_models.live_generation(cur)
                cur.run("UPDATE cl_generations SET live = CASE WHEN generation = ? THEN 1 ELSE 0 END", [new])
        except BaseException:
            self._drop_unfinished(new)
            raise
        self._drop_stale(new, old)
        return done

    def _drop_unfinished(self, generation: int) -> None:
        """Drop a generation this runner was building and will not switch to (a failed drop leaves
        it to the next rebuild, which drops every generation before its own)."""
        try:
            with self.db.transaction() as cur:
                read_models.drop_generation(cur, generation)
        except Exception:
            log.warning("could not drop the unfinished generation %d", generation, exc_info=True)

    def _drop_stale(
        self, live: int, old: int | None = None, *, patience: float = read_models.READERS_WAIT_SECONDS
    ) -> None:
        """Drop every generation before ``live`` (a rebuild's that was killed before it switched,
        or one a drop left behind) and ``old``, the one live before a switch, once the report reads
        still using them have finished (``read_models.wait_for_readers``), trying for ``patience``
        seconds; what is left then, or after any other failure (the switch is done: the rebuild
        has succeeded), is dropped at the next start or rebuild."""
        deadline = time.monotonic() + patience
        while True:
            try:
                with self.db.transaction() as cur:
                    read_models.wait_for_readers(cur)
                    stale = set(read_models.generations_before(cur, live)) | ({old} if old else set())
                    for generation in sorted(stale - {live}):
                        read_models.drop_generation(cur, generation)
                return
            except psycopg.errors.LockNotAvailable:
                if time.monotonic() >= deadline:
                    log.warning("report reads held the old read models too long; they are dropped later")
                    return
                time.sleep(RETRY_DROP_PAUSE_SECONDS)
            except Exception:
                log.warning("the old read models could not be dropped; they are dropped later", exc_info=True)
                return

    def _bulk_catch_up(
        self, generation: int, pending: counters.Deltas, progress: Callable[[int], None] | None
    ) -> int:
        """``catch_up`` for a bulk build: the next batch is read and decoded on a second thread
        while this one is folded and written, so the database's work on one overlaps this
        process's work on the other (a rebuild is otherwise one long alternation of the two); on
        PostgreSQL the tables are analysed on a third thread meanwhile."""
        with self.db.reading() as cur:
            position = read_models.generation_position(cur, generation) or 0
        limit = self.rebuild_batch_size
        done = batches = 0
        analysing: Future[None] | None = None
        with (
            ThreadPoolExecutor(1, thread_name_prefix="rebuild-read") as reader,
            ThreadPoolExecutor(1, thread_name_prefix="rebuild-analyse") as analyser,
        ):
            ahead = reader.submit(self.read_events, position, limit)
            while batch := ahead.result():
                # A full batch: the log may go on, so read on while this one is folded.
                if len(batch) == limit:
                    ahead = reader.submit(self.read_events, batch[-1][0], limit)
                with self.db.transaction() as cur:
                    if self._locked_position(cur, generation) != position:
                        msg = (
                            f"generation {generation} moved on under this rebuild; another process builds it"
                        )
                        raise RuntimeError(msg)
                    read_models.apply_batch(cur, generation, batch, deltas=pending)
                    if len(pending) >= PENDING_LIMIT:
                        pending.flush(cur)
                position = batch[-1][0]
                done += len(batch)
                batches += 1
                # The server analyses while this process folds on, instead of this process waiting
                # for it (docs/benchmarks.md, "Figures behind choices in the code"); one at a time:
                # a due one is skipped while one runs.
                if batches & (batches - 1) == 0 and (analysing is None or analysing.done()):
                    if analysing is not None:
                        analysing.result()
                    analysing = analyser.submit(read_models.analyse, self.db, generation)
                if progress:
                    progress(len(batch))
                if len(batch) < limit:
                    break
            if analysing is not None:
                analysing.result()
        return done
