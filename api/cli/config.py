"""``caseledger config``: the effective settings, and whether caseledger can start with them."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from api.settings import start_problems
from api.settings_report import effective_settings, settings_table


def config(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table of every setting (docs/configuration.md).")
    ] = False,
) -> None:
    """The effective settings, where each came from (environment or default), secrets as ***; exit 0
    when caseledger can start with them, 2 with the reason when it cannot. Creates and connects to
    nothing."""
    if markdown:
        typer.echo(settings_table(), nl=False)
        return
    settings, problems = start_problems(os.environ)
    if settings is not None:
        rows = effective_settings(settings, os.environ)
        width = max(len(row.name) for row in rows)
        for row in rows:
            typer.echo(f"{row.name:<{width}}  {row.value}  ({row.source})")
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(2)
    assert settings is not None
    typer.echo(f"store: {settings.store_description()}")
    typer.echo("configuration OK")
