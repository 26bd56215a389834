"""Personal data at rest and erasure (issue 5), end to end through HTTP on SQLite and PostgreSQL.

The database is searched directly: on SQLite the bytes of the file and its write-ahead log; on
PostgreSQL the raw pages of every table, index and TOAST table of the test schema (dead rows
included, read with ``pageinspect``) and every row's values, bytea decoded.
"""

from __future__ import annotations

import base64
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
from uuid import UUID, uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.commands import COMMANDS
from api.schemas import ReferralIn
from api.settings import Settings
from application.privacy.master_key import MasterKeyError
from application.service import batch
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext
from tests.api import bodies
from tests.api.bodies import assert_problem
from tests.api.test_idempotency_and_concurrency import item, post_batch
from tests.concurrency import run_together
from tests.conftest import TEST_MASTER_KEY
from tests.storage import rebuild_read_models, run_sql, storage_env
from tests.tokens import bearer, new_token

ANNA = {"citizen_ref": "ANNA-7Q2XZ9", "case_ref": "SAG-A-55101", "purpose": "Annas formål: trivsel QX81"}
ANNA_2 = {"case_ref": "SAG-A-55102", "purpose": "Annas andet formål: skole QX82"}
BO = {"citizen_ref": "BO-88K1WW", "case_ref": "SAG-B-66201", "purpose": "Bos formål: netværk QY93"}
ERASED = "erased"


# -- the database, read as bytes ----------------------------------------------------------------------


def server_and_schema(url: str) -> tuple[str, str]:
    """A PostgreSQL store's URL split into the server's URL and the schema's name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), parse_qs(parts.query)["schema"][0]


def database_bytes(url: str) -> bytes:
    """Everything the database holds for this store, as bytes (deleted content included where the
    storage keeps it: SQLite free pages and WAL frames, PostgreSQL dead rows)."""
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(file.read_bytes() for file in sorted(path.parent.glob(f"{path.name}*")))
    base, schema = server_and_schema(url)
    found = bytearray()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        relations = conn.execute(
            "SELECT c.oid::regclass::text, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'i') "
            "UNION SELECT t.oid::regclass::text, t.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class t ON t.oid = c.reltoastrelid "
            "WHERE n.nspname = %s",
            [schema, schema],
        ).fetchall()
        assert len(relations) > 10, relations
        for name, kind in relations:
            blocks = conn.execute("SELECT pg_relation_size(%s::regclass) / 8192", [name]).fetchone()
            assert blocks is not None
            for block in range(int(blocks[0])):
                page = conn.execute("SELECT get_raw_page(%s, %s)", [name, block]).fetchone()
                assert page is not None
                found += bytes(page[0])
            if kind == "r":
                for row in conn.execute(f"SELECT * FROM {name}").fetchall():
                    for value in row:
                        found += (
                            bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                        )
                found += str(
                    conn.execute(f"SELECT string_agg(t::text, ',') FROM {name} t").fetchone()
                ).encode()
    return bytes(found)


def assert_absent(url: str, *texts: str) -> None:
    stored = database_bytes(url)
    for text in texts:
        assert text.encode() not in stored, f"{text!r} found in the database"


def wrapped_key_of(url: str, referral_id: str) -> bytes:
    [(key_id,)] = run_sql(
        url, "SELECT key_id FROM caseledger_citizen_referrals WHERE referral_id = ?", [referral_id]
    )
    [(wrapped,)] = run_sql(url, "SELECT wrapped_key FROM caseledger_citizen_keys WHERE key_id = ?", [key_id])
    assert isinstance(wrapped, bytes | memoryview)
    return bytes(wrapped)


# -- a small world: two citizens, one supplier --------------------------------------------------------


def _file(client: TestClient, supplier_id: str, person: dict[str, str], **overrides: Any) -> str:
    return bodies.extended(client, supplier_id=supplier_id, **{**person, **overrides})


def _settled(client: TestClient) -> int:
    position = bodies.last_position(client)
    assert client.get("/reports/spending", params={"min_position": position}).status_code == 200
    return position


def _reads(client: TestClient, referral_id: str) -> dict[str, Any]:
    """What the API answers about one referral, everywhere it shows."""
    state = client.get(f"/referrals/{referral_id}").json()
    events = client.get(f"/referrals/{referral_id}/events").json()
    trail = client.get(f"/audit/referrals/{referral_id}").json()
    feed = [
        item
        for item in client.get("/feed", params={"limit": 1000}).json()
        if item["stream_id"] == referral_id
    ]
    listed = [
        item
        for item in client.get("/referrals", params={"page_size": 500}).json()["items"]
        if item["id"] == referral_id
    ]
    decisions = [
        item
        for item in client.get("/audit/decisions", params={"page_size": 500}).json()["items"]
        if item["referral_id"] == referral_id
    ]
    return {
        "state": state,
        "events": events,
        "trail": trail,
        "feed": feed,
        "listed": listed,
        "decisions": decisions,
    }


def _personal(reads: dict[str, Any]) -> dict[str, set[Any]]:
    """Each personal field's values across every read."""
    seen: dict[str, set[Any]] = {"citizen_ref": set(), "case_ref": set(), "purpose": set()}
    for field, values in seen.items():
        values.add(reads["state"][field])
        values.add(reads["events"][0]["data"][field])
        values.add(reads["trail"]["entries"][0]["data"][field])
        values.add(reads["feed"][0]["data"][field])
    for field in ("citizen_ref", "case_ref"):
        seen[field].add(reads["listed"][0][field])
    seen["purpose"].add(reads["trail"]["entries"][0]["rationale"])
    seen["purpose"].add(next(d["rationale"] for d in reads["decisions"] if d["type"] == "referral.referred"))
    return seen


def _spending(client: TestClient) -> list[Any]:
    return [
        client.get("/reports/spending", params={"from": "2025-01", "to": "2027-12", "by": by}).json()
        for by in ("supplier", "intervention", "legal_basis", "municipality")
    ] + [client.get("/reports/suppliers").json()]


def _without_personal(reads: dict[str, Any]) -> dict[str, Any]:
    """The reads with the personal fields and integrity timestamps left out: what must not change."""
    state = {k: v for k, v in reads["state"].items() if k not in ("citizen_ref", "case_ref", "purpose")}
    trail = [
        {k: v for k, v in e.items() if k not in ("data", "rationale")}
        | {"rationale": e["rationale"] if e["version"] > 1 else None}
        for e in reads["trail"]["entries"]
    ]
    decisions = [
        {k: v for k, v in d.items() if k != "rationale" or d["type"] != "referral.referred"}
        for d in reads["decisions"]
    ]
    return {
        "state": state,
        "trail": trail,
        "decisions": decisions,
        "versions": [e["version"] for e in reads["events"]],
    }


def test_personal_fields_are_sealed_at_rest_and_erasure_destroys_them_everywhere_but_nothing_else(
    client: TestClient, db_url: str
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    anna = [_file(client, supplier_id, ANNA), _file(client, supplier_id, {**ANNA, **ANNA_2})]
    bo = _file(client, supplier_id, BO)
    _settled(client)

    # Before: every read shows the plaintext, the database holds none of it.
    before = {referral_id: _reads(client, referral_id) for referral_id in [*anna, bo]}
    assert _personal(before[anna[0]]) == {k: {v} for k, v in ANNA.items()}
    assert _personal(before[anna[1]]) == {k: {v} for k, v in {**ANNA, **ANNA_2}.items()}
    assert _personal(before[bo]) == {k: {v} for k, v in BO.items()}
    assert_absent(db_url, *ANNA.values(), *ANNA_2.values(), *BO.values())
    anna_key, bo_key = wrapped_key_of(db_url, anna[0]), wrapped_key_of(db_url, bo)
    assert wrapped_key_of(db_url, anna[1]) == anna_key, "one key per citizen"
    assert anna_key in database_bytes(db_url), "the search must see the key before it is destroyed"
    spending = _spending(client)

    response = client.post(
        "/admin/erasures",
        json={"citizen_ref": ANNA["citizen_ref"], "reason": "art. 17 request", "municipality": "461"},
    )

    assert response.status_code == 200, response.text
    erased = response.json()
    assert erased["referral_ids"] == anna  # in the order they were filed
    assert erased["already_erased"] is False
    assert erased["purged"] is True
    assert erased["actor"] == "test-admin"
    # No byte of her personal data nor of her key is left; Bo's key is.
    stored = database_bytes(db_url)
    for text in (*ANNA.values(), *ANNA_2.values()):
        assert text.encode() not in stored
    assert anna_key not in stored
    assert bo_key in stored
    # Everything reads "erased" in her personal fields and nothing else changed.
    after = {referral_id: _reads(client, referral_id) for referral_id in [*anna, bo]}
    for referral_id in anna:
        assert _personal(after[referral_id]) == {k: {ERASED} for k in ANNA}
        assert _without_personal(after[referral_id]) == _without_personal(before[referral_id])
        assert after[referral_id]["trail"]["integrity"]["ok"] is True
        assert len(after[referral_id]["trail"]["entries"]) == 4  # referred, matched, priced, extended
    assert after[bo] == before[bo] | {"trail": after[bo]["trail"]}
    assert _personal(after[bo]) == {k: {v} for k, v in BO.items()}
    assert _spending(client) == spending
    assert client.get("/audit/verify").json()["ok"] is True


def test_erasing_twice_answers_the_first_erasure_and_an_unknown_citizen_404(client: TestClient) -> None:
    referral_id = bodies.referred(client, citizen_ref="TWICE-1")
    body = {"citizen_ref": "TWICE-1", "reason": "asked twice", "municipality": "461"}

    first = client.post("/admin/erasures", json=body).json()
    again = client.post("/admin/erasures", json=body)

    assert again.status_code == 200
    assert again.json() == first | {"already_erased": True}
    assert first["referral_ids"] == [referral_id]
    assert_problem(
        client.post(
            "/admin/erasures", json={"citizen_ref": "NOBODY-0", "reason": "x", "municipality": "461"}
        ),
        404,
        "citizen-not-found",
    )
    [record] = client.get("/audit/erasures").json()
    assert record == {k: v for k, v in first.items() if k not in ("already_erased", "purged")}
    assert "TWICE-1" not in str(record)


def test_an_erasure_reason_naming_the_citizen_is_refused_and_nothing_is_erased(client: TestClient) -> None:
    referral_id = bodies.referred(client, citizen_ref="NAMED-9")

    response = client.post(
        "/admin/erasures", json={"citizen_ref": "NAMED-9", "reason": "NAMED-9 asked", "municipality": "461"}
    )

    assert_problem(response, 422, "personal-data-in-reason")
    assert client.get(f"/referrals/{referral_id}").json()["citizen_ref"] == "NAMED-9"


def test_a_scoped_admin_erases_only_what_its_own_municipality_holds(client: TestClient) -> None:
    odense_only = bodies.referred(client, citizen_ref="ODENSE-ONLY")
    bodies.referred(client, citizen_ref="ASSENS-ONLY", municipality="101")
    both = [
        bodies.referred(client, citizen_ref="BOTH-1"),
        bodies.referred(client, citizen_ref="BOTH-1", municipality="101"),
    ]
    scoped = bearer(new_token(client, "admin", "461", name="admin-461"))

    only = client.post("/admin/erasures", json={"citizen_ref": "ODENSE-ONLY", "reason": "r"}, headers=scoped)
    assert (only.status_code, only.json()["referral_ids"]) == (200, [odense_only])
    assert_problem(
        client.post("/admin/erasures", json={"citizen_ref": "ASSENS-ONLY", "reason": "r"}, headers=scoped),
        404,
    )
    shared = client.post("/admin/erasures", json={"citizen_ref": "BOTH-1", "reason": "r"}, headers=scoped)
    assert (shared.status_code, shared.json()["referral_ids"]) == (200, [both[0]])
    assert client.get(f"/referrals/{both[0]}").json()["citizen_ref"] == ERASED
    assert client.get(f"/referrals/{both[1]}").json()["citizen_ref"] == "BOTH-1"


def test_a_projection_rebuild_after_erasure_keeps_the_erasure_and_the_spending(
    client: TestClient, db_url: str
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    anna, bo = _file(client, supplier_id, ANNA), _file(client, supplier_id, BO)
    _settled(client)
    spending = _spending(client)
    client.post(
        "/admin/erasures", json={"citizen_ref": ANNA["citizen_ref"], "reason": "r", "municipality": "461"}
    )

    assert rebuild_read_models(db_url) == bodies.last_position(client)

    listed = {item["id"]: item for item in client.get("/referrals").json()["items"]}
    assert (listed[anna]["citizen_ref"], listed[anna]["case_ref"]) == (ERASED, ERASED)
    assert (listed[bo]["citizen_ref"], listed[bo]["case_ref"]) == (BO["citizen_ref"], BO["case_ref"])
    assert _spending(client) == spending
    assert_absent(db_url, *ANNA.values(), *BO.values())


def test_a_citizen_referred_again_after_erasure_gets_a_new_key(ledger: CaseLedger, db_url: str) -> None:
    first, bo, also = file_referral(ledger, ANNA), file_referral(ledger, BO), file_referral(ledger, ANNA)
    assert ledger.privacy.referral_ids_of_citizen(ANNA["citizen_ref"]) == [first, also]
    assert ledger.privacy.referral_ids_of_citizen(f"  {BO['citizen_ref']} ") == [bo]
    assert ledger.privacy.referral_ids_of_citizen("NOBODY-1") == []
    ledger.privacy.erase_citizen(ANNA["citizen_ref"], municipality="461", actor="test")
    assert ledger.privacy.referral_ids_of_citizen(ANNA["citizen_ref"]) == []

    second = file_referral(ledger, ANNA)

    assert ledger.privacy.referral_ids_of_citizen(ANNA["citizen_ref"]) == [second]
    assert ledger.get_referral(second).citizen_ref == ANNA["citizen_ref"]
    assert ledger.get_referral(first).citizen_ref == ERASED
    assert ledger.get_referral(bo).citizen_ref == BO["citizen_ref"]
    assert ledger.audit.verify_integrity()["ok"] is True


def file_referral(ledger: CaseLedger, person: dict[str, str], context: WriteContext | None = None) -> UUID:
    """Files a referral for ``person`` (``citizen_ref``, ``case_ref``, ``purpose``) in 461."""
    body = ReferralIn.model_validate(
        {
            "municipality": "461",
            "legal_basis": "BL-32-1-5",
            "intervention": "family-treatment",
            "requested_hours_per_week": "3",
            "requested_start": "2026-01-15",
            "expected_end": "2026-03-31",
            "referred_on": "2026-01-05",
            "actor": {"id": "sw-1"},
            **person,
        }
    )
    result = COMMANDS["referral.referred"].run(ledger, None, body, context or WriteContext())
    return UUID(result.id)


# -- the master key ----------------------------------------------------------------------------------


def test_the_master_key_is_never_stored_in_the_database(ledger: CaseLedger, db_url: str) -> None:
    file_referral(ledger, ANNA)
    master = base64.b64decode(TEST_MASTER_KEY)
    keys = ledger.keyring.master

    stored = database_bytes(db_url)

    for secret in (master, TEST_MASTER_KEY.encode(), keys.wrapping, keys.indexing, keys.checking):
        assert secret not in stored
    assert keys.check_value().encode() in stored


def test_a_wrong_master_key_is_refused_with_a_clear_error(ledger: CaseLedger, db_url: str) -> None:
    file_referral(ledger, ANNA)
    other = base64.b64encode(bytes(range(32))).decode()

    with pytest.raises(MasterKeyError, match="not the key this database's personal data was sealed with"):
        CaseLedger(storage_env(db_url, master_key=other))


def test_a_malformed_master_key_is_refused(db_url: str) -> None:
    with pytest.raises(MasterKeyError, match="CASELEDGER_MASTER_KEY is not valid base64"):
        CaseLedger(storage_env(db_url, master_key="not base64!"))
    with pytest.raises(MasterKeyError, match="must be 32 bytes"):
        CaseLedger(storage_env(db_url, master_key=base64.b64encode(b"short").decode()))


def test_without_a_master_key_sqlite_makes_a_key_file_and_postgres_refuses(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CASELEDGER_MASTER_KEY")
    if not db_url.startswith("sqlite:"):
        with pytest.raises(MasterKeyError, match="no master key: set CASELEDGER_MASTER_KEY"):
            CaseLedger(storage_env(db_url))
        return
    ledger = CaseLedger(storage_env(db_url))
    referral_id = file_referral(ledger, ANNA)
    ledger.close()
    key_file = Path(db_url.removeprefix("sqlite:///")).parent / "master.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32

    again = CaseLedger(storage_env(db_url))
    try:
        assert again.get_referral(referral_id).citizen_ref == ANNA["citizen_ref"]
    finally:
        again.close()
    with TestClient(create_app(Settings(database_url=db_url, master_key_file=str(key_file)))) as client:
        assert client.get("/healthz").status_code == 200


def test_a_transaction_older_than_the_erasure_delays_the_purge_until_erased_again(
    ledger: CaseLedger, db_url: str
) -> None:
    referral_id = file_referral(ledger, ANNA)
    file_referral(ledger, BO)
    key = _wrapped_key(ledger, referral_id)
    ledger.citizen_keys.purge_timeout = 0.5
    with _old_snapshot(db_url):
        erased = ledger.privacy.erase_citizen(ANNA["citizen_ref"], municipality="461", actor="test")

        assert erased["purged"] is False
        assert ledger.get_referral(referral_id).citizen_ref == ERASED  # the key is gone all the same
    ledger.citizen_keys.purge_timeout = 30.0
    again = ledger.privacy.erase_citizen(ANNA["citizen_ref"], municipality="461", actor="test")

    assert (again["purged"], again["already_erased"]) == (True, True)
    assert key not in database_bytes(db_url)


def _wrapped_key(ledger: CaseLedger, referral_id: UUID) -> bytes:
    [key_id] = {
        ledger.citizen_keys.find_key(ledger.keyring.master.blind_index(ANNA["citizen_ref"], "461"))[0]
    }  # type: ignore[index]
    return ledger.citizen_keys.wrapped_keys([key_id])[key_id][0]


@contextmanager
def _old_snapshot(url: str) -> Iterator[None]:
    """A reader whose snapshot began before what follows, kept open until the block ends."""
    if url.startswith("sqlite:"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)) as conn:
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM caseledger_citizen_keys").fetchone()
            yield
            conn.execute("COMMIT")
        return
    base, schema = server_and_schema(url)
    with psycopg.connect(base) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        conn.execute(f'SELECT count(*) FROM "{schema}".caseledger_citizen_keys').fetchone()
        yield
        conn.rollback()


@pytest.mark.parametrize("flush_events", [3, 500], ids=["many-flushes", "one-flush"])
def test_concurrent_batches_filing_for_the_same_citizens_accept_every_item(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, flush_events: int
) -> None:
    """Three batches make the first data keys of the same 40 citizens at once: a flush that loses
    the race on a key is run again item by item, and every item is accepted."""
    monkeypatch.setattr(batch, "DEFAULT_FLUSH_EVENTS", flush_events)
    supplier_id = bodies.supplier_with_prices(client)
    barrier = threading.Barrier(3, timeout=20)

    def send(n: int) -> list[dict[str, Any]]:
        items = []
        for k in range(40):
            referral_id = str(uuid4())
            referral = bodies.referral(citizen_ref=f"RACE-B-{k}")
            items.append(item(f"race-{n}-{k}-1", "referral.referred", referral, referral_id=referral_id))
            items.append(
                item(
                    f"race-{n}-{k}-2", "referral.matched", bodies.match(supplier_id), referral_id=referral_id
                )
            )
        barrier.wait()
        return post_batch(client, items)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = [r for batch_results in pool.map(send, range(3)) for r in batch_results]

    assert [r for r in results if r["status"] != "accepted"] == []
    assert len(results) == 240
    filed = {r["id"] for r in results}
    assert len(filed) == 120
    assert {client.get(f"/referrals/{i}").json()["citizen_ref"] for i in filed} == {
        f"RACE-B-{k}" for k in range(40)
    }


def test_concurrent_first_referrals_of_one_citizen_share_one_key(ledger: CaseLedger) -> None:
    filed: list[UUID] = []
    errors: list[BaseException] = []

    def file() -> None:
        try:
            for _ in range(5):
                filed.append(file_referral(ledger, {**ANNA, "citizen_ref": "RACE-1"}))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    run_together(file, 4)

    assert errors == []
    assert sorted(ledger.privacy.referral_ids_of_citizen("RACE-1")) == sorted(filed)
    assert len(filed) == 20
    assert {ledger.get_referral(i).citizen_ref for i in filed} == {"RACE-1"}
    assert len(ledger.citizen_keys.find_keys([ledger.keyring.master.blind_index("RACE-1", "461")])) == 1
