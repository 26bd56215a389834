"""``caseledger projections``: the projection worker and full rebuilds."""

from __future__ import annotations

import logging.config
import os
import signal
import threading
import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.app import projections_for
from api.cli.stores import console, open_ledger
from api.logs import log_config
from api.settings import Settings
from application.service.caseledger import CaseLedger
from projections.database import ProjectionDatabase
from projections.leader import lead, watch_lead
from projections.runner import ProjectionRunner

projections_cli = typer.Typer(help="The projection worker and full rebuilds.", no_args_is_help=True)


def _runner(ledger: CaseLedger, settings: Settings) -> tuple[ProjectionRunner, ProjectionDatabase]:
    return projections_for(ledger, settings.storage_env(), settings)


@projections_cli.command("run")
def projections_run(
    stop_with_parent: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when this process (serve --workers) is gone.")
    ] = None,
) -> None:
    """Follow the event store and keep the read models current (for production: serve with
    CASELEDGER_RUN_PROJECTIONS=false and run this as its own process). Stops on SIGINT/SIGTERM."""
    logging.config.dictConfig(log_config())
    settings = Settings()
    ledger = open_ledger(settings)
    runner, db = _runner(ledger, settings)
    if db.dialect == "postgres" and settings.projections.nice:
        os.nice(settings.projections.nice)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()
        runner.wake.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    if stop_with_parent is not None:
        threading.Thread(
            target=_stop_when_orphaned, args=(stop_with_parent, stop, runner), daemon=True
        ).start()
    if db.dialect == "postgres":
        console.print("waiting to be the one projection process (leader lock)")
    leader = lead(db, stop)
    if stop.is_set():
        db.close()
        ledger.close()
        return
    lost = threading.Event()
    if leader is not None:
        threading.Thread(target=watch_lead, args=(leader, stop, runner.wake, lost), daemon=True).start()
    console.print(
        f"projections at {runner.position()} of {ledger.last_position()}; following the log "
        f"(batches of up to {runner.batch_size:,} events, nice {os.nice(0)})"
    )
    try:
        runner.run_forever(stop)
    finally:
        console.print(f"projections stopped at {runner.position()}")
        if leader is not None:
            leader.close()
        db.close()
        ledger.close()
    if lost.is_set():
        console.print("[red]lost the leader lock (its connection ended); start again to wait for it[/red]")
        raise typer.Exit(1)


def _stop_when_orphaned(parent: int, stop: threading.Event, runner: ProjectionRunner) -> None:
    """Stop the runner once ``parent`` is no longer this process's parent (it was killed)."""
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()
            runner.wake.set()


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Rebuild every read model from position 0 beside the live ones, then switch (no downtime)."""
    settings = Settings()
    ledger = open_ledger(settings, existing=True)
    runner, db = _runner(ledger, settings)
    try:
        started = time.perf_counter()
        with Progress(
            TextColumn("[bold]rebuild[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} events/s"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rebuild", total=ledger.last_position(), rate="-")

            def advance(processed: int) -> None:
                progress.advance(task, processed)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / max(time.perf_counter() - started, 1e-9):,.0f}")

            done = runner.rebuild(advance)
        elapsed = time.perf_counter() - started
        console.print(f"rebuilt {done} events in {elapsed:.1f} s ({done / max(elapsed, 1e-9):,.0f} events/s)")
    finally:
        db.close()
        ledger.close()
