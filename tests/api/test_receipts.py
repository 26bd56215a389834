"""Signed receipts of the hash chain's head: GET /audit/receipt, /audit/public-key, the CLI, and receipts
kept outside the server (written while serving, checked with an exported public key)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from api.settings import Settings, start_problems
from application.storage.chain_links import GENESIS, NewEvent, link
from tests.api import bodies
from tests.storage import alter_state, postgres_schema, run_sql
from tests.tokens import authorize, bearer, new_token

runner = CliRunner()
TEST_SIGNING_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI and the app on the same store and the same signing key."""
    monkeypatch.setenv("CASELEDGER_DATABASE_URL", db_url)
    monkeypatch.setenv("CASELEDGER_SIGNING_KEY", TEST_SIGNING_KEY)
    return db_url


@pytest.fixture
def client(env: str) -> Iterator[TestClient]:
    """The API on ``env``'s store, started after the signing key is set."""
    with TestClient(create_app(Settings(database_url=env))) as test_client:
        yield authorize(test_client)


def _checked_independently(receipt: dict[str, object], public_key: bytes) -> None:
    """The receipt's signature checked with cryptography alone, over the documented canonical JSON."""
    fields = {name: value for name, value in receipt.items() if name != "signature"}
    message = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    Ed25519PublicKey.from_public_bytes(public_key).verify(
        base64.b64decode(str(receipt["signature"])), message
    )


def test_a_receipt_is_signed_by_the_public_key_and_names_verifys_head(client: TestClient) -> None:
    bodies.active(client)
    key = client.get("/audit/public-key").json()
    receipt = client.get("/audit/receipt").json()
    head = client.get("/audit/verify").json()["head"]

    public_key = base64.b64decode(key["public_key"])
    assert len(public_key) == 32
    assert key["key_id"] == receipt["key_id"] == hashlib.sha256(public_key).hexdigest()[:16]
    _checked_independently(receipt, public_key)
    assert (receipt["position"], receipt["chain_head"]) == (head["position"], head["global_hash"])
    assert receipt["recorded_at"] is not None and receipt["issued_at"] >= receipt["recorded_at"]

    forged = {**receipt, "position": receipt["position"] - 1}
    with pytest.raises(InvalidSignature):
        _checked_independently(forged, public_key)


def test_a_receipt_still_verifies_after_more_writes_and_not_after_an_altered_event(
    client: TestClient, env: str, tmp_path: Path
) -> None:
    referral_id = bodies.active(client)
    kept = tmp_path / "receipt.json"
    issued = runner.invoke(cli, ["audit", "receipt", "--out", str(kept)])
    assert issued.exit_code == 0, issued.output
    assert json.loads(kept.read_text())["position"] == 5

    bodies.active(client)  # more events after the receipt's head
    still = runner.invoke(cli, ["audit", "verify", "--receipt", str(kept)], env={"COLUMNS": "300"})
    assert still.exit_code == 0, still.output
    assert still.output.startswith("receipt OK: the chain still holds ")
    assert len(still.output.strip().splitlines()) == 1

    alter_state(env, UUID(referral_id), 2, lambda state: state.replace(b"Best", b"Good"))
    altered = runner.invoke(cli, ["audit", "verify", "--receipt", str(kept)], env={"COLUMNS": "300"})
    assert altered.exit_code == 1, altered.output
    assert altered.output.startswith("receipt NOT OK: ")
    assert len(altered.output.strip().splitlines()) == 1


def test_a_forged_signature_or_position_fails_verification(client: TestClient, tmp_path: Path) -> None:
    bodies.active(client)
    receipt = client.get("/audit/receipt").json()
    other = base64.b64encode(bytes(64)).decode()
    forged = tmp_path / "forged.json"
    moved = tmp_path / "moved.json"
    forged.write_text(json.dumps({**receipt, "signature": other}))
    moved.write_text(json.dumps({**receipt, "position": receipt["position"] - 1}))

    for path in (forged, moved):
        result = runner.invoke(cli, ["audit", "verify", "--receipt", str(path)], env={"COLUMNS": "300"})
        assert result.exit_code == 1, result.output
        assert "signature does not match" in result.output


def test_the_cli_prints_the_same_public_key_as_the_api(client: TestClient) -> None:
    result = runner.invoke(cli, ["audit", "public-key"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == client.get("/audit/public-key").json()


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_get_receipts(client: TestClient, role: str) -> None:
    headers = bearer(new_token(client, role=role, municipality="461"))
    assert client.get("/audit/receipt", headers=headers).status_code == 200
    assert client.get("/audit/public-key", headers=headers).status_code == 200


def test_a_case_system_token_gets_403(client: TestClient) -> None:
    headers = bearer(new_token(client, role="case_system", municipality="461"))
    for path in ("/audit/receipt", "/audit/public-key"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"


def test_no_receipt_is_issued_for_a_chain_that_does_not_verify(client: TestClient, env: str) -> None:
    referral_id = bodies.active(client)
    alter_state(env, UUID(referral_id), 2, lambda state: state.replace(b"Best", b"Good"))
    answer = client.get("/audit/receipt")
    assert answer.status_code == 409
    assert answer.json()["type"] == "/problems/chain-not-intact"


def test_on_sqlite_without_a_key_signing_key_is_made_beside_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASELEDGER_SIGNING_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'caseledger.sqlite'}"
    with TestClient(create_app(Settings(database_url=url))) as started:
        authorize(started)
        first = started.get("/audit/public-key").json()
    key_file = tmp_path / "signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with TestClient(create_app(Settings(database_url=url))) as restarted:
        authorize(restarted, name="after-restart")
        assert restarted.get("/audit/public-key").json() == first  # the same key after a restart
        assert restarted.get("/audit/receipt").status_code == 200


@pytest.mark.postgres
def test_on_postgresql_without_a_key_receipts_answer_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASELEDGER_SIGNING_KEY", raising=False)
    with postgres_schema() as url, TestClient(create_app(Settings(database_url=url))) as started:
        authorize(started)
        for path in ("/audit/receipt", "/audit/public-key"):
            answer = started.get(path)
            assert answer.status_code == 503
            assert answer.json()["type"] == "/problems/signing-key-missing"
            assert int(answer.headers["Retry-After"]) >= 1
        assert started.get("/audit/verify").status_code == 200  # everything else runs


def test_a_receipt_of_the_empty_store_verifies_once_events_follow(client: TestClient, tmp_path: Path) -> None:
    empty = client.get("/audit/receipt").json()
    assert (empty["position"], empty["chain_head"], empty["recorded_at"]) == (0, "0" * 64, None)
    kept = tmp_path / "empty.json"
    kept.write_text(json.dumps(empty))
    bodies.active(client)
    result = runner.invoke(cli, ["audit", "verify", "--receipt", str(kept)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output


# -- receipts kept outside the server ---------------------------------------------------------------

OTHER_SIGNING_KEY = base64.b64encode(bytes(range(100, 132))).decode()


def _verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["audit", "verify", *args], env={"COLUMNS": "300"})
    return result.exit_code, result.output


def test_a_receipt_signed_before_the_key_changed_verifies_with_the_exported_public_key(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies.active(client)
    kept, old_key = tmp_path / "receipt.json", tmp_path / "old-key.json"
    kept.write_text(json.dumps(client.get("/audit/receipt").json()))
    old_key.write_text(runner.invoke(cli, ["audit", "public-key"]).output)

    monkeypatch.setenv("CASELEDGER_SIGNING_KEY", OTHER_SIGNING_KEY)  # the key is changed
    code, output = _verify("--receipt", str(kept))
    assert code == 1 and "signed with key" in output, output
    code, output = _verify("--receipt", str(kept), "--public-key", str(old_key))
    assert code == 0 and output.startswith("receipt OK: "), output

    monkeypatch.delenv("CASELEDGER_SIGNING_KEY")  # no signing key needed to check with a public one
    code, output = _verify("--receipt", str(kept), "--public-key", str(old_key))
    assert code == 0, output


def test_a_public_key_file_that_holds_no_key_is_one_line_and_exit_1(
    client: TestClient, tmp_path: Path
) -> None:
    bodies.active(client)
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(client.get("/audit/receipt").json()))
    for content in ("not json", "[]", '{"public_key": "AAAA"}', '{"key_id": "x"}'):
        bad = tmp_path / "key.json"
        bad.write_text(content)
        code, output = _verify("--receipt", str(kept), "--public-key", str(bad))
        assert code == 1, output
        assert output.startswith("receipt NOT OK: ") and len(output.strip().splitlines()) == 1, output


def test_public_key_goes_with_receipt(env: str, tmp_path: Path) -> None:
    code, output = _verify("--public-key", str(tmp_path / "key.json"))
    assert code == 2 and "goes with --receipt" in output, output


def _receipts(directory: Path) -> list[dict[str, object]]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob("receipt-*.json"))]


def _wait_for(directory: Path, position: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        kept = _receipts(directory)
        if kept and kept[-1]["position"] == position:
            return kept
        time.sleep(0.05)
    raise AssertionError(f"no receipt of position {position} in {directory}: {_receipts(directory)}")


def test_receipts_are_written_to_the_directory_while_serving(env: str, tmp_path: Path) -> None:
    directory = tmp_path / "receipts" / "kept"  # made at start
    settings = Settings(database_url=env, receipts={"directory": str(directory), "interval_minutes": 0.002})
    with TestClient(create_app(settings)) as served:
        authorize(served)
        public_key = base64.b64decode(served.get("/audit/public-key").json()["public_key"])
        bodies.active(served)
        first = served.get("/audit/verify").json()["head"]["position"]
        _wait_for(directory, first)
        bodies.active(served)
        last = served.get("/audit/verify").json()["head"]["position"]
        kept = _wait_for(directory, last)
        time.sleep(0.5)  # several more intervals with no new event: no new receipt
        assert _receipts(directory)[-1] == kept[-1]

    positions = [receipt["position"] for receipt in kept]
    assert positions == sorted(set(positions)) and {first, last} <= set(positions)
    for receipt in kept:
        _checked_independently(receipt, public_key)
    assert not [path.name for path in directory.iterdir() if not path.name.startswith("receipt-")]
    newest = directory / f"receipt-{last:012d}.json"
    code, output = _verify("--receipt", str(newest))
    assert code == 0, output


@pytest.mark.postgres
def test_a_receipt_directory_on_postgresql_without_a_signing_key_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CASELEDGER_SIGNING_KEY", raising=False)
    environ = {
        "CASELEDGER_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
        "CASELEDGER_MASTER_KEY": base64.b64encode(bytes(32)).decode(),
        "CASELEDGER_RECEIPTS__DIRECTORY": str(tmp_path),
    }
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    _settings, problems = start_problems(environ)
    assert problems == [
        "CASELEDGER_RECEIPTS__DIRECTORY is set but no signing key: set CASELEDGER_SIGNING_KEY "
        "or CASELEDGER_SIGNING_KEY_FILE"
    ]


def _rechain(url: str) -> None:
    """Recompute every row of the hash chains from the stored events, as a tamperer who rewrote
    history would to leave both chains internally consistent."""
    stored = run_sql(url, "SELECT originator_id, originator_version, topic, state, rowid FROM stored_events")
    events = [
        NewEvent(UUID(str(stream)), int(version), str(topic), bytes(state), int(position))  # type: ignore[arg-type,call-overload]
        for stream, version, topic, state, position in stored
    ]
    for position, _stream, _version, stream_link, head in link(events, {}, GENESIS):
        run_sql(
            url,
            "UPDATE caseledger_chain SET stream_hash = ?, global_hash = ? WHERE position = ?",
            [stream_link, head, position],
        )


def test_a_history_rewritten_consistently_after_a_receipt_fails_it_naming_the_position(
    client: TestClient, env: str, tmp_path: Path
) -> None:
    referral_id = bodies.active(client)
    kept = tmp_path / "receipt.json"
    kept.write_text(json.dumps(client.get("/audit/receipt").json()))
    bodies.active(client)

    alter_state(env, UUID(referral_id), 2, lambda state: state.replace(b"Best", b"Good"))
    _rechain(env)
    assert client.get("/audit/verify").json()["ok"] is True  # consistent: only a kept head shows it

    receipt = json.loads(kept.read_text())
    code, output = _verify("--receipt", str(kept))
    assert code == 1, output
    assert output.strip() == (
        f"receipt NOT OK: the chain no longer holds {receipt['chain_head']} at position {receipt['position']}"
    )


def test_a_flipped_signature_byte_fails(client: TestClient, tmp_path: Path) -> None:
    bodies.active(client)
    receipt = client.get("/audit/receipt").json()
    signature = bytearray(base64.b64decode(receipt["signature"]))
    signature[10] ^= 0x01
    flipped = tmp_path / "flipped.json"
    flipped.write_text(json.dumps({**receipt, "signature": base64.b64encode(bytes(signature)).decode()}))
    code, output = _verify("--receipt", str(flipped))
    assert code == 1 and "signature does not match" in output, output
