"""``caseledger tokens``: bearer tokens for the API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.stores import console, open_ledger, stdout
from api.settings import Settings
from application.token_roles import ROLES
from domain.errors import DomainError, NotFound

tokens_cli = typer.Typer(help="Bearer tokens for the API (stored only as hashes).", no_args_is_help=True)


@tokens_cli.command("create")
def tokens_create(
    role: Annotated[str, typer.Option(help=f"One of {', '.join(ROLES)}.")],
    municipality: Annotated[
        str, typer.Option(help="The municipality code (three digits) the token covers, or '*' for all.")
    ],
    name: Annotated[
        str | None, typer.Option(help="A unique name, recorded as the actor; default: generated.")
    ] = None,
) -> None:
    """Create a token and print it once (only its SHA-256 hash is stored)."""
    ledger = open_ledger(Settings())
    try:
        issued = ledger.open_tokens().create(role=role, municipality=municipality, name=name)
    except DomainError as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    token = issued.token
    console.print(
        f"token {token.name!r}: role {token.role}, municipality {token.municipality}. "
        "It is shown only now; send it as Authorization: Bearer <token>",
        highlight=False,
    )
    stdout.print(issued.secret, highlight=False, soft_wrap=True)


@tokens_cli.command("list")
def tokens_list() -> None:
    """Every token's name, role, municipality, creation and revocation (never the secrets)."""
    ledger = open_ledger(Settings(), existing=True)
    try:
        tokens = ledger.open_tokens().tokens()
    finally:
        ledger.close()
    table = Table(title="tokens")
    for column in ("name", "role", "municipality", "created at", "revoked at"):
        table.add_column(column)
    for token in tokens:
        table.add_row(token.name, token.role, token.municipality, token.created_at, token.revoked_at or "")
    stdout.print(table)


@tokens_cli.command("revoke")
def tokens_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: from now on it answers 401."""
    ledger = open_ledger(Settings(), existing=True)
    try:
        token = ledger.open_tokens().revoke(name)
    except NotFound as error:
        console.print(f"[red]{error.detail}[/red]", highlight=False)
        raise typer.Exit(1) from None
    finally:
        ledger.close()
    stdout.print(f"revoked {token.name} at {token.revoked_at}", highlight=False)
