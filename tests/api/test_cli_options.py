"""The CLI's options: every command, argument and option explains itself in ``--help``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from api.cli import cli


def _commands(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every command under ``command`` (typer's own click: duck-typed), with its path."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_command_and_every_parameter_has_help_text() -> None:
    root = typer.main.get_command(cli)
    missing = []
    walked = 0
    for path, command in _commands(root, "caseledger"):
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            walked += 1
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{path} {param.name}")
    assert walked > 30  # the walk reached the subcommands, not only the group
    assert missing == []
