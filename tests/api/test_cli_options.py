"""The CLI's options: every command, argument and option explains itself in ``--help``, and
``erase --reason`` is kept with the erasure record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import cli
from tests.api import bodies

runner = CliRunner()


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


def test_erase_keeps_the_reason_and_the_actor_with_the_erasure_record(
    client: TestClient, db_url: str
) -> None:
    referral_id = bodies.referred(client, citizen_ref="CLI-REASON-1")
    env = {"CASELEDGER_DATABASE_URL": db_url}
    base = ["erase", "CLI-REASON-1", "--municipality", "461", "--yes", "--actor", "dpo-anna"]

    naming = runner.invoke(cli, [*base, "--reason", "CLI-REASON-1 wrote to us"], env=env)
    assert naming.exit_code == 1, naming.output
    assert "must not contain the citizen_ref" in naming.output
    assert client.get("/audit/erasures").json() == []

    result = runner.invoke(cli, [*base, "--reason", "art. 17 request by letter"], env=env)
    assert result.exit_code == 0, result.output
    [record] = client.get("/audit/erasures").json()
    assert (record["reason"], record["actor"]) == ("art. 17 request by letter", "dpo-anna")
    assert referral_id in record["referral_ids"]
