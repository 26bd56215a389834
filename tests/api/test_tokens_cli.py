"""``caseledger tokens create | list | revoke`` on an SQLite file named by CASELEDGER_DATABASE_URL."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from api.cli import cli
from api.commands import COMMANDS
from api.schemas import ReferralIn
from api.settings import Settings
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext
from tests.storage import storage_env

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tokens.sqlite"
    monkeypatch.setenv("CASELEDGER_DATABASE_URL", f"sqlite:///{path}")
    return path


def _authenticate(secret: str) -> str | None:
    ledger = CaseLedger(storage_env(Settings().database_url))
    try:
        token = ledger.open_tokens().authenticate(secret)
    finally:
        ledger.close()
    return None if token is None else f"{token.name} {token.role} {token.municipality}"


def test_tokens_create_prints_the_secret_once_and_stores_only_its_hash(database: Path) -> None:
    result = runner.invoke(
        cli, ["tokens", "create", "--role", "caseworker", "--municipality", "461", "--name", "sofie"]
    )

    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert len(secret) >= 40 and " " not in secret
    assert _authenticate(secret) == "sofie caseworker 461"
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT * FROM caseledger_tokens").fetchall()
    assert secret not in repr(rows)
    assert rows[0][0] == hashlib.sha256(secret.encode()).hexdigest()


def test_tokens_list_shows_names_roles_and_municipalities_but_no_secrets(database: Path) -> None:
    first = runner.invoke(
        cli, ["tokens", "create", "--role", "admin", "--municipality", "*", "--name", "ops"]
    )
    second = runner.invoke(cli, ["tokens", "create", "--role", "reporter", "--municipality", "101"])

    result = runner.invoke(cli, ["tokens", "list"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "ops" in result.output and "admin" in result.output and "*" in result.output
    assert "reporter-101-" in result.output and "101" in result.output
    for created in (first, second):
        assert created.stdout.strip() not in result.output


def test_tokens_revoke_makes_the_token_unusable(database: Path) -> None:
    secret = runner.invoke(
        cli, ["tokens", "create", "--role", "matcher", "--municipality", "461", "--name", "mo"]
    ).stdout.strip()

    result = runner.invoke(cli, ["tokens", "revoke", "mo"])

    assert result.exit_code == 0, result.output
    assert "revoked mo" in result.output
    assert _authenticate(secret) is None
    listed = runner.invoke(cli, ["tokens", "list"], env={"COLUMNS": "200"}).output
    assert "20" in listed.split("mo", 1)[1]  # the revocation time is listed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "king", "--municipality", "461"], "role must be one of"),
        (["--role", "admin", "--municipality", "46"], "three digits or '*'"),
        (["--role", "admin", "--municipality", "461", "--name", "has space"], "name must be"),
    ],
)
def test_tokens_create_refuses_an_unknown_role_municipality_or_name(
    database: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["tokens", "create", *arguments])

    assert result.exit_code == 1
    assert message in result.output


def test_a_token_name_is_unique_and_revoking_an_unknown_name_exits_1(database: Path) -> None:
    assert (
        runner.invoke(
            cli, ["tokens", "create", "--role", "admin", "--municipality", "*", "--name", "x"]
        ).exit_code
        == 0
    )

    again = runner.invoke(cli, ["tokens", "create", "--role", "admin", "--municipality", "*", "--name", "x"])
    unknown = runner.invoke(cli, ["tokens", "revoke", "nobody"])

    assert again.exit_code == 1 and "exists already" in again.output
    assert unknown.exit_code == 1 and "no token named 'nobody'" in unknown.output


def test_erase_destroys_the_citizens_key_and_prints_the_referrals(database: Path) -> None:
    referral_id = _refer_for("CLI-CITIZEN-7")
    other = _refer_for("CLI-CITIZEN-8")

    unnamed = runner.invoke(cli, ["erase", "CLI-CITIZEN-7", "--yes"])
    assert unnamed.exit_code == 2
    assert "--municipality" in unnamed.output
    refused = runner.invoke(cli, ["erase", "CLI-CITIZEN-7", "--municipality", "461"], input="n\n")
    assert refused.exit_code == 1
    assert _citizen_of(referral_id) == "CLI-CITIZEN-7"

    result = runner.invoke(
        cli,
        ["erase", "-", "--yes", "--reason", "asked by letter", "--municipality", "461"],
        input="CLI-CITIZEN-7\n",
    )

    assert result.exit_code == 0, result.output
    assert f"referral {referral_id}" in result.output
    assert str(other) not in result.output
    assert (_citizen_of(referral_id), _citizen_of(other)) == ("erased", "CLI-CITIZEN-8")
    again = runner.invoke(cli, ["erase", "CLI-CITIZEN-7", "--yes", "--municipality", "461"])
    assert again.exit_code == 0
    assert "already erased" in again.output
    unknown = runner.invoke(cli, ["erase", "NOBODY", "--yes", "--municipality", "461"])
    assert unknown.exit_code == 1
    assert "no referral" in unknown.output


def _refer_for(citizen_ref: str) -> UUID:
    ledger = CaseLedger(storage_env(Settings().database_url))
    try:
        body = ReferralIn.model_validate(
            {
                "municipality": "461",
                "citizen_ref": citizen_ref,
                "legal_basis": "BL-32-1-5",
                "intervention": "family-treatment",
                "purpose": "Støtte i hjemmet",
                "requested_start": "2026-01-15",
                "expected_end": "2026-03-31",
                "referred_on": "2026-01-05",
                "actor": {"id": "sw-1"},
            }
        )
        result = COMMANDS["referral.referred"].run(ledger, None, body, WriteContext())
    finally:
        ledger.close()
    return UUID(result.id)


def _citizen_of(referral_id: UUID) -> str:
    ledger = CaseLedger(storage_env(Settings().database_url))
    try:
        return ledger.get_referral(referral_id).citizen_ref
    finally:
        ledger.close()
