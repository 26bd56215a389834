"""What every command shares: the consoles, and the ledger on the configured store."""

from __future__ import annotations

import psycopg
import typer
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from rich.console import Console
from rich.markup import escape

from api.settings import Settings
from application.privacy.master_key import MasterKeyError
from application.service.caseledger import CaseLedger
from application.storage.environment import describe_store, prepare_storage, store_exists

console = Console(stderr=True)
stdout = Console()
AUTH_HINT = "create an API token with: caseledger tokens create --role admin --municipality '*' --name me"


def open_ledger(settings: Settings, *, existing: bool = False) -> CaseLedger:
    """The ledger on the configured store. ``existing``: a command that only reads (or changes what
    is there) refuses a store that does not exist rather than creating an empty one. A store that
    cannot be reached is one line and exit 2, not a traceback."""
    env = settings.storage_env(make_directory=not existing)
    try:
        if existing and not store_exists(env):
            console.print(
                f"[red]no caseledger store at {escape(describe_store(env))}: nothing to read "
                "(is CASELEDGER_DATABASE_URL set as for serve?)[/red]",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2)
        prepare_storage(env)
        return CaseLedger(env)
    except MasterKeyError as error:
        console.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (psycopg.OperationalError, PersistenceOperationalError) as error:
        reason = escape(str(error).strip().splitlines()[-1])
        console.print(
            f"[red]cannot open {escape(describe_store(env))}: {reason}[/red]", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
