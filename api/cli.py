"""The ``caseledger`` command line."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.app import create_app
from api.settings import Settings
from application.caseledger import CaseLedger, copenhagen_today
from application.storage import prepare_storage, storage_env

cli = typer.Typer(help="caseledger: event-sourced case flow for social-services procurement.", no_args_is_help=True)
console = Console(stderr=True)


def _open_ledger(settings: Settings) -> CaseLedger:
    env = storage_env(settings.database_url)
    prepare_storage(env)
    return CaseLedger(env)


def _load_demo(ledger: CaseLedger, weeks: int, suppliers: int, per_week: int, seed: int) -> None:
    from application.demo import load_demo

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


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (CASELEDGER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CASELEDGER_PORT).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo municipality first if the store is empty.")] = False,
) -> None:
    """Serve the HTTP API on CASELEDGER_DATABASE_URL (default: SQLite under ./caseledger-data/)."""
    settings = Settings()
    if demo:
        ledger = _open_ledger(settings)
        try:
            if ledger.last_position() == 0:
                _load_demo(ledger, weeks=52, suppliers=180, per_week=60, seed=461)
            else:
                console.print(f"store already holds {ledger.last_position()} events; demo not loaded again")
        finally:
            ledger.close()
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(f"caseledger on http://{bind_host}:{bind_port}  (API docs: http://{bind_host}:{bind_port}/docs)")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


@cli.command()
def demo(
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks of referrals, ending today.")] = 52,
    suppliers: Annotated[int, typer.Option(min=3, max=5000, help="Suppliers to register.")] = 180,
    per_week: Annotated[int, typer.Option(min=1, max=10000, help="Referrals filed per week.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 461,
    force: Annotated[bool, typer.Option("--force", help="Load even if the store already holds events.")] = False,
) -> None:
    """Load a realistic demo municipality (Odense, 461): suppliers, price lists, a year of referrals."""
    ledger = _open_ledger(Settings())
    try:
        if ledger.last_position() and not force:
            console.print(f"store already holds {ledger.last_position()} events; use --force to add the demo anyway")
            raise typer.Exit(1)
        _load_demo(ledger, weeks=weeks, suppliers=suppliers, per_week=per_week, seed=seed)
    finally:
        ledger.close()


def main() -> None:
    """Entry point of the ``caseledger`` console script."""
    cli()
