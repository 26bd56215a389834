"""The projection worker as its own process, killed with SIGKILL mid-catch-up, several times.

After each kill it is started again; once it has caught up, its tables equal a rebuild from zero:
no event lost, none counted twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner
from tests.projections.helpers import dump, small_demo


def start_worker(db_url: str, command: str = "run", batch_size: int = 2) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CASELEDGER_DATABASE_URL": db_url,
        "CASELEDGER_PROJECTIONS__BATCH_SIZE": str(batch_size),
        # Small bulk batches too, so that kills land in the middle of a rebuild.
        "CASELEDGER_PROJECTIONS__REBUILD_BATCH_SIZE": str(batch_size * 10),
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "projections", command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(condition: Callable[[], bool], *, seconds: float, step: float) -> None:
    """Poll ``condition`` every ``step`` seconds until it holds or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(step)


def kill_at_random(process: subprocess.Popen[bytes], chance: random.Random, *, within: float) -> None:
    """SIGKILL ``process`` at a random moment in the next ``within`` seconds, and reap it."""
    time.sleep(chance.uniform(0.0, within))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def demo_with_runner(
    ledger: CaseLedger, projection_db: ProjectionDatabase, *, weeks: int, per_week: int, suppliers: int
) -> tuple[int, ProjectionRunner]:
    """Fill the ledger with a demo; its last position and a runner (in this process) to watch workers."""
    small_demo(ledger, weeks=weeks, per_week=per_week, suppliers=suppliers)
    return ledger.last_position(), ProjectionRunner(projection_db, ledger.read_events)


def test_a_worker_killed_repeatedly_ends_with_the_tables_of_a_rebuild(
    db_url: str, ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    head, runner = demo_with_runner(ledger, projection_db, weeks=30, per_week=20, suppliers=25)
    chance = random.Random(20261123)
    positions = []
    for _ in range(4):
        before = runner.position()
        worker = start_worker(db_url)

        def processing(before: int = before) -> bool:
            return runner.position() != before

        wait_until(processing, seconds=30, step=0.005)  # then kill it at a random moment
        kill_at_random(worker, chance, within=0.1)
        positions.append(runner.position())

    worker = start_worker(db_url)
    wait_until(lambda: runner.position() >= head, seconds=60, step=0.1)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=20)
    killed_and_resumed = dump(projection_db)

    runner.rebuild()

    assert runner.position() == head
    assert positions == sorted(positions), "a restarted worker resumes, it never goes back"
    mid_catch_up = [p for p in positions if 0 < p < head]
    assert len(mid_catch_up) >= 3, f"kills should land mid catch-up: {positions} of {head}"
    assert dump(projection_db) == killed_and_resumed


def generations(db: ProjectionDatabase) -> list[tuple[int, int, int]]:
    """``(generation, position, live)`` of every generation of the read models."""
    with db.reading() as cur:
        cur.run("SELECT generation, position, live FROM cl_generations ORDER BY generation")
        return [(int(r["generation"]), int(r["position"]), int(r["live"])) for r in cur.rows()]


def test_a_rebuild_killed_repeatedly_leaves_the_live_tables_alone_and_the_next_one_completes(
    db_url: str, ledger: CaseLedger, projection_db: ProjectionDatabase
) -> None:
    head, runner = demo_with_runner(ledger, projection_db, weeks=12, per_week=15, suppliers=15)
    runner.catch_up()
    live = dump(projection_db)
    chance = random.Random(461)
    killed_at = []
    for _ in range(3):
        known = {g for g, _, _ in generations(projection_db)}
        rebuild = start_worker(db_url, "rebuild")

        def building(known: set[int] = known) -> bool:
            """A new generation is being built and has got past its first event."""
            new = [p for g, p, is_live in generations(projection_db) if g not in known and not is_live]
            return bool(new) and new[0] > 0

        wait_until(building, seconds=60, step=0.005)
        kill_at_random(rebuild, chance, within=0.05)
        killed_at.append([(g, p) for g, p, is_live in generations(projection_db) if not is_live])
        assert dump(projection_db) == live, "a killed rebuild never touches the live read models"

    assert any(0 < p < head for left in killed_at for _, p in left), (
        f"kills should land mid-rebuild: {killed_at}"
    )
    rebuild = start_worker(db_url, "rebuild", batch_size=500)
    assert rebuild.wait(timeout=120) == 0
    assert dump(projection_db) == live
    [(_, position, is_live)] = generations(projection_db)
    assert (position, is_live) == (head, 1), "the completed rebuild dropped what the killed ones left"
