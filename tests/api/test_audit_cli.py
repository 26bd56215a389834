"""``caseledger audit verify`` and ``caseledger audit trail ID`` on both storages."""

from __future__ import annotations

import getpass
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import cli
from tests.api import bodies
from tests.storage import alter_state, run_sql

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CASELEDGER_DATABASE_URL", db_url)
    return db_url


def test_audit_verify_prints_the_head_and_exits_1_once_history_was_altered(
    client: TestClient, env: str
) -> None:
    referral_id = bodies.active(client)
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 5 events checked" in result.output
    assert "chain head: position 5 global_hash " in result.output
    assert "computed_at 20" in result.output

    alter_state(env, UUID(referral_id), 2, lambda state: state.replace(b"Best", b"Good"))
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"altered stream {referral_id} version 2" in result.output
    assert "NOT OK (1 problems)" in result.output


def test_audit_verify_checks_the_chain_against_a_head_kept_from_an_earlier_run(
    client: TestClient, env: str
) -> None:
    bodies.active(client)
    head = client.get("/audit/verify").json()["head"]
    kept = f"{head['position']}:{head['global_hash']}"
    forged = f"{head['position']}:{'0' * 64}"

    matching = runner.invoke(cli, ["audit", "verify", "--expect", kept], env={"COLUMNS": "300"})
    differing = runner.invoke(cli, ["audit", "verify", "--expect", forged], env={"COLUMNS": "300"})
    malformed = runner.invoke(cli, ["audit", "verify", "--expect", "5"])

    assert matching.exit_code == 0, matching.output
    assert f"expected head at position {head['position']}: matches" in matching.output
    assert differing.exit_code == 1, differing.output
    assert f"DOES NOT MATCH (found {head['global_hash']})" in differing.output
    assert malformed.exit_code == 2
    assert "POSITION:GLOBAL_HASH" in malformed.output


def test_audit_trail_prints_the_decisions_as_a_table(client: TestClient, env: str) -> None:
    referral_id = bodies.closed(client)
    result = runner.invoke(cli, ["audit", "trail", referral_id], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("referral.referred", "referral.matched", "referral.price_agreed", "referral.closed"):
        assert text in result.output
    assert "The goals of the plan are met" in result.output
    assert "status: active → closed" in result.output
    assert "stream intact: 4 events checked" in result.output


def test_audit_trail_of_an_unknown_referral_exits_1(client: TestClient, env: str) -> None:
    result = runner.invoke(cli, ["audit", "trail", "00000000-0000-4000-8000-000000000000"])
    assert result.exit_code == 1


def test_audit_trail_is_recorded_in_the_access_log_as_the_os_user(client: TestClient, env: str) -> None:
    """The trail shows purpose: each run is an ``audit.trail`` read by ``cli:<OS user>``, an unknown
    id a refused attempt, as through HTTP."""
    referral_id = bodies.referred(client)
    unknown = "00000000-0000-4000-8000-000000000000"

    shown = runner.invoke(cli, ["audit", "trail", referral_id], env={"COLUMNS": "300"})
    refused = runner.invoke(cli, ["audit", "trail", unknown])
    entries = client.get("/audit/access-log", params={"action": "audit.trail"}).json()["items"]

    assert shown.exit_code == 0 and "Styrke forældrekompetencer" in shown.output, shown.output
    assert refused.exit_code == 1
    assert [
        (e["token"], e["role"], e["municipality"], e["referral_id"], e["status"], e["format"])
        for e in entries
    ] == [
        (f"cli:{getpass.getuser()}", "cli", "461", referral_id, 200, "table"),
        (f"cli:{getpass.getuser()}", "cli", "*", unknown, 404, "table"),
    ]


def test_audit_trail_shows_nothing_when_its_read_cannot_be_recorded(client: TestClient, env: str) -> None:
    referral_id = bodies.referred(client)
    run_sql(env, "DROP TABLE caseledger_access_log")
    run_sql(env, "CREATE VIEW caseledger_access_log AS SELECT 1 AS id")

    result = runner.invoke(cli, ["audit", "trail", referral_id], env={"COLUMNS": "300"})

    assert result.exit_code == 2, result.output
    assert "could not be recorded in the access log" in result.output
    assert "Styrke" not in result.output and "referral.referred" not in result.output


def test_audit_access_log_prints_the_reads_of_a_citizen_and_records_its_own_read(
    client: TestClient, env: str
) -> None:
    mine = bodies.referred(client, citizen_ref="B-5555cc")
    other = bodies.referred(client, citizen_ref="B-6666dd")
    for referral_id in (mine, other, mine):
        assert client.get(f"/referrals/{referral_id}").status_code == 200

    result = runner.invoke(cli, ["audit", "access-log", "--citizen-ref", "B-5555cc"], env={"COLUMNS": "250"})

    assert result.exit_code == 0, result.output
    assert "access log: 2 of 2 entries" in result.output
    assert result.output.count(mine) == 2 and other not in result.output
    assert "referral.read" in result.output and "test-admin" in result.output
    own_read = client.get("/audit/access-log", params={"action": "access_log.read"}).json()["items"]
    assert [(e["role"], e["query"]["citizen_ref"], e["format"]) for e in own_read] == [
        ("cli", "[redacted]", "table")
    ]
    assert own_read[0]["token"].startswith("cli:")

    since = runner.invoke(cli, ["audit", "access-log", "--since", "2999-01-01", "--json"])
    assert since.exit_code == 0 and since.output.strip() == "[]"
    bad = runner.invoke(cli, ["audit", "access-log", "--since", "last week"])
    assert bad.exit_code == 2
