"""``caseledger erase``: erasure of what one municipality holds about a citizen."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from api.app import forget_case_indexes_on_erasure
from api.cli.stores import console, open_ledger, stdout
from api.settings import Settings
from domain.errors import DomainError
from projections.database import ProjectionDatabase


def erase(
    citizen_ref: Annotated[
        str,
        typer.Argument(
            help="The citizen's citizen_ref; '-' reads it from standard input (keeps it "
            "out of the shell history)."
        ),
    ],
    municipality: Annotated[
        str,
        typer.Option(
            help="The municipality whose data of the citizen is erased (each municipality is its own "
            "data controller; the citizen's referrals elsewhere stay).",
            show_default=False,
        ),
    ],
    reason: Annotated[
        str, typer.Option(help="Why (kept with the erasure record; not the citizen_ref).")
    ] = "",
    actor: Annotated[str, typer.Option(help="Who erases (kept with the erasure record).")] = "cli",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase what one municipality holds about a citizen: destroy their data key of that
    municipality, so that citizen_ref, case_ref and purpose of each of its referrals for them read
    "erased" everywhere. Suppliers, prices, spending, decisions and the citizen's referrals in other
    municipalities stay. Cannot be undone."""
    if not re.fullmatch(r"\d{3}", municipality):
        console.print(f"[red]--municipality must be a 3-digit municipality code, not {municipality!r}[/red]")
        raise typer.Exit(2)
    if citizen_ref == "-":
        citizen_ref = typer.get_text_stream("stdin").readline().strip()
    settings = Settings()
    ledger = open_ledger(settings, existing=True)
    projection_db = ProjectionDatabase.from_env(settings.storage_env(make_directory=False))
    forget_case_indexes_on_erasure(ledger, projection_db)
    try:
        referral_ids = ledger.privacy.referral_ids_of_citizen(citizen_ref, municipality=municipality)
        if referral_ids and not yes:
            typer.confirm(
                f"erase the personal data of {len(referral_ids)} referral(s) of municipality "
                f"{municipality}? this cannot be undone",
                abort=True,
            )
        erased = ledger.privacy.erase_citizen(
            citizen_ref, municipality=municipality, actor=actor, reason=reason
        )
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
        projection_db.close()
    if erased["already_erased"]:
        stdout.print(
            f"already erased at {erased['erased_at']} (erasure {erased['erasure_id']})", highlight=False
        )
    else:
        stdout.print(
            f"erased at {erased['erased_at']}: key {erased['key_id']} destroyed (erasure {erased['erasure_id']})",
            highlight=False,
        )
    for referral_id in erased["referral_ids"]:
        stdout.print(f"  referral {referral_id}", highlight=False)
    if not erased["purged"]:
        console.print(
            "[yellow]the SQLite write-ahead log could not be truncated (readers kept it busy); the key is "
            "destroyed, its old bytes leave the files at the next checkpoint[/yellow]",
            highlight=False,
        )
