"""The ``caseledger`` command line: ``cli`` and the console script's ``main``, the commands in
modules of their own (``serve``, ``config``, ``projections``, ``audit``, ``erase``, ``imports``,
``tokens``) and what they share in ``stores``."""

from __future__ import annotations

import os

import typer

from api.cli import audit, config, erase, imports, projections, serve, tokens
from api.runtime import tune_garbage_collector
from api.settings import unknown_setting_message, unknown_settings

cli = typer.Typer(
    help="caseledger: event-sourced case flow for social-services procurement.", no_args_is_help=True
)


@cli.callback()
def refuse_unknown_settings() -> None:
    """Before any command (``serve`` too), and before anything is created: a ``CASELEDGER_*``
    variable that names no setting (a typo such as ``CASELEDGER_DATABSE_URL`` would otherwise leave
    the intended setting at its default) stops the command with exit status 2."""
    unknown = unknown_settings(os.environ)
    if unknown:
        for name in unknown:
            typer.echo(unknown_setting_message(name), err=True)
        raise typer.Exit(2)


# Commands in the order ``--help`` lists them (the groups after them).
cli.command()(serve.serve)
cli.command()(serve.demo)
cli.command()(config.config)
cli.command()(erase.erase)
cli.command("import")(imports.import_events)
cli.add_typer(projections.projections_cli, name="projections")
cli.add_typer(audit.audit_cli, name="audit")
cli.add_typer(tokens.tokens_cli, name="tokens")


def main() -> None:
    """Entry point of the ``caseledger`` console script."""
    tune_garbage_collector()
    cli()
