"""``caseledger serve`` and ``caseledger demo``: the HTTP API, and a demo municipality to show it."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
import uvicorn
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.app import create_app
from api.cli.stores import AUTH_HINT, console, open_ledger
from api.demo import load_demo
from api.logs import log_config
from api.runtime import open_files_needed, raise_open_files_limit
from api.settings import DEFAULT_MAX_WORKERS, Settings
from api.supervisor import MULTIPROCESS_DIR, metrics_directory
from application.service.caseledger import CaseLedger, copenhagen_today


def _load_demo(ledger: CaseLedger, weeks: int, suppliers: int, per_week: int, seed: int) -> None:
    with Progress(
        TextColumn("[bold]demo[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("loading", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = load_demo(
            ledger,
            today=copenhagen_today(),
            weeks=weeks,
            suppliers=suppliers,
            per_week=per_week,
            seed=seed,
            progress=report,
        )
    console.print(f"demo loaded: {summary}")


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (CASELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CASELEDGER_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo municipality first if the store is empty.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="API processes (CASELEDGER_WORKERS). With more than one, the projections run in one "
            "process of their own beside them. Default: on PostgreSQL one per available core, at most "
            f"{DEFAULT_MAX_WORKERS}; on SQLite 1.",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API on CASELEDGER_DATABASE_URL (default: SQLite under ./caseledger-data/)."""
    settings = Settings()
    processes = workers or settings.serve_processes()
    demo_token = None
    if demo:
        ledger = open_ledger(settings)
        try:
            if ledger.last_position() == 0:
                _load_demo(ledger, weeks=52, suppliers=180, per_week=60, seed=461)
                demo_token = ledger.open_tokens().create(role="admin", municipality="*").secret
            else:
                console.print(f"store already holds {ledger.last_position()} events; demo not loaded again")
        finally:
            ledger.close()
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"store: {settings.store_description()}", highlight=False, soft_wrap=True)
    console.print(
        f"caseledger on http://{bind_host}:{bind_port}  (API docs: http://{bind_host}:{bind_port}/docs)"
    )
    console.print(f"dashboard: http://{bind_host}:{bind_port}/dashboard/ (log in with a token)")
    if demo_token:
        console.print(
            "admin token for the demo (shown once; send it as Authorization: Bearer <token>):",
            highlight=False,
        )
        console.print(f"  {demo_token}", highlight=False, soft_wrap=True)
        console.print(
            f"  e.g. curl -H 'Authorization: Bearer {demo_token}' http://{bind_host}:{bind_port}/referrals",
            highlight=False,
            soft_wrap=True,
        )
    else:
        console.print(AUTH_HINT, highlight=False)
    if os.environ.get(MULTIPROCESS_DIR) == "":
        # prometheus_client would write its files into the working directory.
        console.print(f"[red]{MULTIPROCESS_DIR} is set but empty: name a directory or unset it[/red]")
        raise typer.Exit(2)
    raise_open_files_limit(open_files_needed(processes, settings.storage_env()))
    if processes == 1:
        with metrics_directory(several=False):
            uvicorn.run(
                create_app(settings),
                host=bind_host,
                port=bind_port,
                log_level="info",
                log_config=log_config(),
            )
        return
    # The API processes, the projection process and their keeper (``api.supervisor``) read their
    # settings from the environment, as this process did; the keeper takes over this process.
    supervisor = [sys.executable, "-m", "api.supervisor", "--workers", str(processes)]
    supervisor += ["--host", bind_host, "--port", str(bind_port)]
    supervisor += ["--projections"] if settings.run_projections else []
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, supervisor)  # noqa: S606 - our own module, with this interpreter


def demo(
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks of referrals, ending today.")] = 52,
    suppliers: Annotated[int, typer.Option(min=3, max=5000, help="Suppliers to register.")] = 180,
    per_week: Annotated[int, typer.Option(min=1, max=10000, help="Referrals filed per week.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 461,
    force: Annotated[
        bool, typer.Option("--force", help="Load even if the store already holds events.")
    ] = False,
) -> None:
    """Load a realistic demo municipality (Odense, 461): suppliers, price lists, a year of referrals."""
    ledger = open_ledger(Settings())
    try:
        if ledger.last_position() and not force:
            console.print(
                f"store already holds {ledger.last_position()} events; use --force to add the demo anyway"
            )
            raise typer.Exit(1)
        _load_demo(ledger, weeks=weeks, suppliers=suppliers, per_week=per_week, seed=seed)
    finally:
        ledger.close()
    console.print(AUTH_HINT, highlight=False)
