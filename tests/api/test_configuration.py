"""What the operator configures is what runs: caseledger's settings are the only configuration.

eventsourcing reads its settings from the application's environment, which by default is the whole
process environment with every name also looked up under the application's prefix
(``CASELEDGER_POSTGRES_DBNAME`` before ``POSTGRES_DBNAME``). These tests set every name the library
reads, bare and prefixed, to a hostile value and check that nothing changes; that a misspelt
``CASELEDGER_*`` variable is refused before anything is created; that the start says which store
is in use without its password; and that ``docs/configuration.md`` is the settings class's table.
"""

from __future__ import annotations

import ast
import base64
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import eventsourcing
import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import cli
from api.settings import Settings
from api.settings_report import settings_table
from application.service.caseledger import CaseLedger
from application.storage.postgres import DatabaseFunctionsRefused
from tests.api import bodies
from tests.api.test_idempotency_and_concurrency import item, post_batch
from tests.reliability.cluster import free_port
from tests.storage import POSTGRES_ADMIN_URL, database_url, run_sql, storage_env
from tests.tokens import authorize

STORAGES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"
runner = CliRunner()


def library_setting_names() -> set[str]:
    """Every environment name eventsourcing reads, found in its source (not listed by hand): the
    UPPER_CASE string constants its classes and modules name settings by (``PERSISTENCE_MODULE``,
    ``POSTGRES_DBNAME``, ``AGGREGATE_CACHE_MAXSIZE`` …) and the literals it passes to ``env.get``,
    ``os.getenv`` or ``os.environ.get`` (``CIPHER_KEY``, ``TZINFO_TOPIC`` …)."""
    root = Path(eventsourcing.__file__).parent
    names: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        if "tests" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)
                and ENV_NAME.match(node.value.value)
            ):
                names.add(node.value.value)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "getenv")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and ENV_NAME.match(node.args[0].value)
            ):
                names.add(node.args[0].value)
    return names


def hostile_values(names: set[str], kind: str, elsewhere: Path, schema: str) -> dict[str, str]:
    """A value for each library setting that would change the store, its tables, its insert path or
    its behaviour if it were read; ``0`` (a broken topic, a zero size or timeout, false) for a name
    not listed here."""
    recorder = (
        "eventsourcing.postgres:PostgresApplicationRecorder"
        if kind == "postgres"
        else "eventsourcing.sqlite:SQLiteApplicationRecorder"
    )
    chosen = {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "INFRASTRUCTURE_FACTORY": "eventsourcing.popo",
        "FACTORY_TOPIC": "eventsourcing.popo",
        "APPLICATION_RECORDER_TOPIC": recorder,
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        "IS_SNAPSHOTTING_ENABLED": "y",
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
        "CIPHER_KEY": base64.b64encode(os.urandom(16)).decode(),
        "POSTGRES_DBNAME": "postgres",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_HOST": "127.0.0.2",
        "POSTGRES_PORT": "1",
        "POSTGRES_USER": "hostile_user",
        "POSTGRES_PASSWORD": "hostile",
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "0",
        "POSTGRES_PRE_PING": "n",
        "SQLITE_DBNAME": str(elsewhere / "hostile.sqlite"),
        "ORIGINATOR_ID_TYPE": "text",
        "SINGLE_ROW_TRACKING": "n",
        "CREATE_TABLE": "n",
        "AGGREGATE_CACHE_MAXSIZE": "1",
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "AGGREGATE_CACHE_FASTFORWARD_SKIPPING": "y",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    return {name: chosen.get(name, "0") for name in names}


def scenario(client: TestClient) -> dict[str, Any]:
    """A write, a read of personal data, a repeated ``event_id`` and ``audit verify``; what they
    answered, without the ids (which differ between stores)."""
    supplier = bodies.created(client.post("/suppliers", json=bodies.supplier()))
    referral_id = str(uuid.uuid4())
    personal = {
        "citizen_ref": "HOSTILE-7Q2",
        "case_ref": "SAG-H-1",
        "purpose": "Formål under fjendtligt miljø",
    }
    batch = [item("cfg-1", "referral.referred", bodies.referral(**personal), referral_id=referral_id)]
    first, again = post_batch(client, batch), post_batch(client, batch)
    read = client.get(f"/referrals/{referral_id}")
    verified = client.get("/audit/verify").json()
    ready = client.get("/readyz").json()
    return {
        "supplier_version": supplier["version"],
        "statuses": [first[0]["status"], again[0]["status"]],
        "same_result": (first[0]["position"], first[0]["version"])
        == (again[0]["position"], again[0]["version"]),
        "read": read.status_code,
        "personal": {field: read.json()[field] for field in personal},
        "verify": {key: verified[key] for key in ("ok", "checked", "chained", "problem_count")},
        "last_position": ready["storage"]["last_position"],
    }


def tables(url: str) -> set[str]:
    """The tables of the store behind ``url`` (its schema on PostgreSQL) with their id columns' types."""
    if url.startswith("sqlite"):
        return {str(row[0]) for row in run_sql(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    rows = run_sql(
        url,
        "SELECT c.table_name, c.data_type FROM information_schema.columns c "
        "WHERE c.table_schema = ? AND c.column_name = 'originator_id'",
        [schema],
    )
    names = run_sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema])
    return {str(row[0]) for row in names} | {f"{row[0]}.originator_id:{row[1]}" for row in rows}


def tables_in_database(dbname: str) -> set[tuple[str, str]]:
    parts = urlsplit(POSTGRES_ADMIN_URL)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", "", ""))
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
    return {(str(schema), str(name)) for schema, name in rows}


def schema_exists(name: str) -> bool:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name]).fetchone()
    return row is not None


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (where the default ``./caseledger-data/`` would appear)."""
    directory = tmp_path / "work"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def test_the_library_names_are_found_in_the_library() -> None:
    names = library_setting_names()
    assert {
        "PERSISTENCE_MODULE",
        "POSTGRES_DBNAME",
        "POSTGRES_SCHEMA",
        "POSTGRES_ENABLE_DB_FUNCTIONS",
        "POSTGRES_LOCK_TIMEOUT",
        "SQLITE_DBNAME",
        "COMPRESSOR_TOPIC",
        "CIPHER_TOPIC",
        "CIPHER_KEY",
        "IS_SNAPSHOTTING_ENABLED",
        "AGGREGATE_CACHE_MAXSIZE",
        "APPLICATION_RECORDER_TOPIC",
    } <= names


@pytest.mark.parametrize(
    ("kind", "which"),
    [
        pytest.param("sqlite", "every-library-name", id="sqlite-every-library-name"),
        pytest.param(
            "postgres", "every-library-name", id="postgres-every-library-name", marks=pytest.mark.postgres
        ),
        pytest.param(
            "postgres",
            "database-functions-alone",
            id="postgres-database-functions-alone",
            marks=pytest.mark.postgres,
        ),
    ],
)
def test_no_library_setting_in_the_environment_bare_or_prefixed_changes_what_runs(
    kind: str, which: str, tmp_path: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every name at once; and ``POSTGRES_ENABLE_DB_FUNCTIONS=y`` alone, bare, which on its own made
    PostgreSQL inserts skip the recorder (no chain rows, no citizen keys: personal data read
    ``erased`` and the audit failed), where a crash from another name cannot hide it."""
    with (
        database_url(kind, tmp_path / "baseline") as url,
        TestClient(create_app(Settings(database_url=url))) as client,
    ):
        expected = scenario(authorize(client))
        expected_tables = tables(url)

    names = library_setting_names()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    hostile_schema = f"hostile_{uuid.uuid4().hex[:10]}"
    postgres_tables_before = tables_in_database("postgres") if kind == "postgres" else set()
    hostile = hostile_values(names, kind, elsewhere, hostile_schema)
    prefixed = which == "every-library-name"
    if not prefixed:
        hostile = {"POSTGRES_ENABLE_DB_FUNCTIONS": hostile["POSTGRES_ENABLE_DB_FUNCTIONS"]}
    for name, value in hostile.items():
        monkeypatch.setenv(name, value)
        if prefixed:
            monkeypatch.setenv(f"CASELEDGER_{name}", value)
    (tmp_path / "hostile").mkdir()
    with database_url(kind, tmp_path / "hostile") as url:
        with TestClient(create_app(Settings(database_url=url))) as client:
            assert scenario(authorize(client)) == expected
            assert client.get("/readyz").json()["storage"]["kind"] == (
                "postgresql" if kind == "postgres" else "sqlite"
            )
        assert tables(url) == expected_tables

        if prefixed:
            # The CLI refuses the prefixed names (none is a setting) before it does anything ...
            refused = runner.invoke(cli, ["audit", "verify"], env={"CASELEDGER_DATABASE_URL": url})
            assert refused.exit_code == 2
            assert "unknown setting CASELEDGER_" in refused.output
            # ... and with the bare names alone, the audit verifies as without them.
            for name in hostile:
                monkeypatch.delenv(f"CASELEDGER_{name}")
        verified = runner.invoke(cli, ["audit", "verify"], env={"CASELEDGER_DATABASE_URL": url})
        assert verified.exit_code == 0, verified.output
        assert f"ok: {expected['last_position']} events checked" in verified.output

    assert list(elsewhere.iterdir()) == []
    assert list(workdir.iterdir()) == []
    if kind == "postgres":
        assert not schema_exists(hostile_schema)
        assert tables_in_database("postgres") == postgres_tables_before


@pytest.mark.postgres
def test_database_functions_are_refused_at_construction_whatever_asks_for_them(tmp_path: Path) -> None:
    with database_url("postgres", tmp_path) as url:
        with pytest.raises(DatabaseFunctionsRefused, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
            CaseLedger({**storage_env(url), "POSTGRES_ENABLE_DB_FUNCTIONS": "y"})
        assert tables(url) == set()


def _caseledger(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``caseledger ARGS`` as an operator runs it: the installed console script, its own process."""
    script = Path(sys.executable).parent / "caseledger"
    return subprocess.Popen(
        [str(script), *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_misspelt_setting_stops_serve_with_the_closest_name_and_creates_nothing(workdir: Path) -> None:
    serve = _caseledger(
        "serve",
        "--port",
        str(free_port()),
        cwd=workdir,
        env={"CASELEDGER_DATABSE_URL": "postgresql://postgres@127.0.0.1:5432/test"},
    )
    try:
        _, errors = serve.communicate(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    assert serve.returncode == 2
    assert errors.strip() == ("unknown setting CASELEDGER_DATABSE_URL; did you mean CASELEDGER_DATABASE_URL?")
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("command", [["demo"], ["tokens", "list"], ["projections", "run"], ["config"]])
def test_every_command_refuses_an_unknown_setting_before_it_creates_anything(
    command: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASELEDGER_MASTER_KY", "x")
    result = runner.invoke(cli, command)
    assert result.exit_code == 2
    assert (
        result.output.strip() == "unknown setting CASELEDGER_MASTER_KY; did you mean CASELEDGER_MASTER_KEY?"
    )
    assert list(workdir.iterdir()) == []


def test_the_test_harness_names_are_not_refused(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CASELEDGER_TEST_POSTGRES_URL", "CASELEDGER_TEST_CHROMIUM", "CASELEDGER_LONG_TESTS"):
        monkeypatch.setenv(name, "1")
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 0, result.output


def _start_line(url: str, cwd: Path) -> str:
    """The ``store:`` line ``caseledger serve`` prints on start (it is stopped once it has)."""
    serve = _caseledger("serve", "--port", str(free_port()), cwd=cwd, env={"CASELEDGER_DATABASE_URL": url})
    try:
        assert serve.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = serve.stderr.readline()
            if line.startswith("store: "):
                return line.rstrip("\n")
            assert line, f"serve ended without naming the store (exit {serve.wait()})"
        pytest.fail("serve did not name the store within 60 s")
    finally:
        serve.terminate()
        serve.wait(timeout=30)


@pytest.mark.postgres
def test_serve_names_the_postgresql_store_on_start_and_hides_the_password(tmp_path: Path) -> None:
    with database_url("postgres", tmp_path) as url:
        parts = urlsplit(url)
        with_password = urlunsplit(parts._replace(netloc=f"postgres:pw-Xq81z@{parts.hostname}:{parts.port}"))
        schema = parse_qs(parts.query)["schema"][0]
        line = _start_line(with_password, tmp_path)
    assert line == f"store: PostgreSQL {parts.hostname}:{parts.port}{parts.path}, schema {schema}"
    assert "pw-Xq81z" not in line


def test_serve_names_the_sqlite_store_by_its_absolute_path(workdir: Path) -> None:
    line = _start_line("sqlite:///data/ledger.sqlite", workdir)
    assert line == f"store: SQLite {workdir / 'data' / 'ledger.sqlite'}"


def test_config_shows_the_effective_settings_their_sources_and_hides_secrets(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.setenv(
        "CASELEDGER_DATABASE_URL",
        "postgresql://caseledger:pw-Xq81z@db.internal:6432/cl?schema=s1&password=pw-Qz7",
    )
    monkeypatch.setenv("CASELEDGER_WORKERS", "4")
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    assert lines["CASELEDGER_DATABASE_URL"] == [
        "postgresql://caseledger:***@db.internal:6432/cl?schema=s1&password=***",
        "(environment)",
    ]
    assert lines["CASELEDGER_MASTER_KEY"] == ["***", "(environment)"]
    assert lines["CASELEDGER_WORKERS"] == ["4", "(environment)"]
    assert lines["CASELEDGER_PORT"] == ["8000", "(default)"]
    assert "store: PostgreSQL db.internal:6432/cl, schema s1" in result.output
    assert "pw-Xq81z" not in result.output
    assert "pw-Qz7" not in result.output
    assert os.environ["CASELEDGER_MASTER_KEY"] not in result.output
    assert list(workdir.iterdir()) == []


def test_a_projection_setting_is_set_in_its_group_and_shown_by_config(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.setenv("CASELEDGER_PROJECTIONS__BATCH_SIZE", "250")
    assert Settings().projections.batch_size == 250
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line.strip()}
    assert lines["CASELEDGER_PROJECTIONS__BATCH_SIZE"] == ["250", "(environment)"]
    assert lines["CASELEDGER_PROJECTIONS__NICE"] == ["10", "(default)"]


def test_a_projection_setting_under_its_name_before_the_group_is_refused_with_the_new_name(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASELEDGER_PROJECTION_BATCH_SIZE", "250")
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "unknown setting CASELEDGER_PROJECTION_BATCH_SIZE; did you mean CASELEDGER_PROJECTIONS__BATCH_SIZE?"
    )


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        ("CASELEDGER_WORKERS", "0", "CASELEDGER_WORKERS: Input should be greater than or equal to 1"),
        ("CASELEDGER_PORT", "eighty", "CASELEDGER_PORT: Input should be a valid integer"),
        (
            "CASELEDGER_PROJECTIONS__NICE",
            "20",
            "CASELEDGER_PROJECTIONS__NICE: Input should be less than or equal to 19",
        ),
        (
            "CASELEDGER_DATABASE_URL",
            "mysql://x/y",
            "CASELEDGER_DATABASE_URL must start with sqlite: or postgresql://",
        ),
        ("CASELEDGER_MASTER_KEY", "c2hvcnQ=", "CASELEDGER_MASTER_KEY: the master key must be 32 bytes"),
        (
            "CASELEDGER_MASTER_KEY_FILE",
            "/nonexistent/key",
            "cannot read the master key from CASELEDGER_MASTER_KEY_FILE",
        ),
        ("CASELEDGER_SIGNING_KEY", "c2hvcnQ=", "CASELEDGER_SIGNING_KEY: the signing key must be 32 bytes"),
        ("CASELEDGER_SIGNING_KEY", "not base64!", "CASELEDGER_SIGNING_KEY is not valid base64"),
        (
            "CASELEDGER_SIGNING_KEY_FILE",
            "/nonexistent/key",
            "cannot read the signing key from CASELEDGER_SIGNING_KEY_FILE",
        ),
    ],
)
def test_config_exits_2_with_the_reason_when_caseledger_could_not_start(
    setting: str, value: str, reason: str, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.delenv("CASELEDGER_MASTER_KEY")  # it would be taken before a key file
    monkeypatch.setenv(setting, value)
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 2
    assert reason in result.output
    assert list(workdir.iterdir()) == []


def test_config_refuses_postgresql_without_a_master_key(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.delenv("CASELEDGER_MASTER_KEY")
    monkeypatch.setenv("CASELEDGER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 2
    assert "no master key" in result.output


def test_the_documented_table_is_the_one_the_settings_class_makes() -> None:
    text = DOCS.read_text(encoding="utf-8")
    begin, end = "<!-- settings-table: begin -->\n", "<!-- settings-table: end -->"
    committed = text[text.index(begin) + len(begin) : text.index(end)]
    assert committed == settings_table(), "regenerate it: caseledger config --markdown"
    assert runner.invoke(cli, ["config", "--markdown"]).output == settings_table()
