"""The CLI's read commands: they refuse a store that does not exist instead of creating an empty one,
an unreachable database is one line, and ``audit trail --json`` answers as the API does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import cli
from tests.api import bodies
from tests.storage import POSTGRES_ADMIN_URL

runner = CliRunner()
UNKNOWN = "00000000-0000-4000-8000-000000000000"
READ_COMMANDS = [
    ["audit", "verify"],
    ["audit", "trail", UNKNOWN],
    ["audit", "access-log"],
    ["tokens", "list"],
    ["tokens", "revoke", "nobody"],
    ["erase", "B-1234", "--municipality", "461", "--yes", "--reason", "request"],
    ["projections", "rebuild"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_command_refuses_a_missing_sqlite_store_and_creates_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    store = tmp_path / "nothing-here" / "caseledger.sqlite"
    result = runner.invoke(cli, command, env={"CASELEDGER_DATABASE_URL": f"sqlite:///{store}"})
    assert result.exit_code == 2, result.output
    assert "no caseledger store at SQLite" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "nothing-here").exists()


@pytest.mark.postgres
@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_command_refuses_a_missing_postgresql_schema_and_creates_nothing(command: list[str]) -> None:
    schema = f"t_missing_{uuid.uuid4().hex[:8]}"
    url = f"{POSTGRES_ADMIN_URL}?schema={schema}"
    result = runner.invoke(cli, command, env={"CASELEDGER_DATABASE_URL": url})
    assert result.exit_code == 2, result.output
    assert "no caseledger store at PostgreSQL" in result.output
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
    assert found is None


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_one_line_not_a_traceback() -> None:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/no_such_database_{uuid.uuid4().hex[:8]}"
    for command in (["audit", "verify"], ["tokens", "create", "--role", "admin", "--municipality", "*"]):
        result = runner.invoke(cli, command, env={"CASELEDGER_DATABASE_URL": url, "COLUMNS": "300"})
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1, result.output
        assert "cannot open PostgreSQL" in lines[0]
        assert "does not exist" in lines[0]


def test_audit_trail_as_json_is_the_apis_answer(client: TestClient, db_url: str) -> None:
    referral_id = bodies.closed(client)
    result = runner.invoke(
        cli, ["audit", "trail", referral_id, "--json"], env={"CASELEDGER_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    answered = client.get(f"/audit/referrals/{referral_id}").json()
    for trail in (printed, answered):  # the instant the integrity check ran differs
        assert trail["integrity"]["head"].pop("computed_at")
    assert printed == answered
    log = client.get("/audit/access-log", params={"referral_id": referral_id, "action": "audit.trail"}).json()
    cli_reads = [item for item in log["items"] if item["token"].startswith("cli:")]
    assert [item["format"] for item in cli_reads] == ["json"]
