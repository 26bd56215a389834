"""Erasure per municipality (issue 22, item 4), end to end through HTTP on SQLite and PostgreSQL.

Each municipality is its own data controller: its erasure of a citizen erases what it holds about
them, and only that, and answers exactly as for a citizen known only to it. The citizen's referrals
in another municipality stay readable there; the statistics do not change.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from application.privacy.keyring import Keyring
from application.privacy.master_key import KEY_BYTES
from application.service.caseledger import CaseLedger
from application.storage.citizen_keys import ErasureRecord, NewCitizenKey, now
from projections.database import ProjectionDatabase
from projections.runner import ProjectionRunner
from tests.api import bodies
from tests.api.bodies import assert_problem
from tests.storage import run_sql, storage_env
from tests.tokens import authorize, bearer, new_token

ERASED = "erased"
VARYING = ("erasure_id", "key_id", "erased_at", "referral_ids")
"""What differs between two erasures of two citizens by nature (ids and times)."""


def _file(client: TestClient, supplier_id: str, citizen_ref: str, municipality: str) -> str:
    """A referral matched, priced and extended, so that it counts in the spending reports."""
    return bodies.extended(
        client, supplier_id=supplier_id, citizen_ref=citizen_ref, municipality=municipality
    )


def _supplier(client: TestClient) -> str:
    """A supplier with prices in 461 and 101."""
    supplier_id = bodies.supplier_with_prices(client)
    bodies.created(
        client.post(
            f"/suppliers/{supplier_id}/price-lists", json={**bodies.price_list(), "municipality": "101"}
        ),
        200,
    )
    return supplier_id


def _statistics(client: TestClient) -> list[Any]:
    position = bodies.last_position(client)
    reports = [
        client.get(
            "/reports/spending",
            params={"from": "2025-01", "to": "2027-12", "by": by, "min_position": position},
        ).json()
        for by in ("supplier", "intervention", "legal_basis", "municipality")
    ]
    return [*reports, client.get("/reports/suppliers").json(), client.get("/reports/price-benchmarks").json()]


def _citizen_of(client: TestClient, referral_id: str, headers: dict[str, str]) -> str:
    response = client.get(f"/referrals/{referral_id}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["citizen_ref"])


def _listed(client: TestClient, headers: dict[str, str]) -> dict[str, tuple[str, str]]:
    position = bodies.last_position(client)
    items = client.get("/referrals", params={"min_position": position}, headers=headers).json()["items"]
    return {item["id"]: (item["citizen_ref"], item["case_ref"]) for item in items}


def _erase(client: TestClient, citizen_ref: str, headers: dict[str, str], **extra: str) -> Any:
    return client.post(
        "/admin/erasures", json={"citizen_ref": citizen_ref, "reason": "art. 17", **extra}, headers=headers
    )


def _shape(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in VARYING} | {"referrals": len(answer["referral_ids"])}


def test_an_erasure_by_one_municipality_erases_only_its_own_referrals_and_answers_as_for_its_own_citizen(
    client: TestClient,
) -> None:
    supplier_id = _supplier(client)
    both_461 = _file(client, supplier_id, "BOTH-C1", "461")
    both_101 = _file(client, supplier_id, "BOTH-C1", "101")
    only_461 = _file(client, supplier_id, "ONLY-D1", "461")
    only_101 = _file(client, supplier_id, "ONLY-E1", "101")
    admin_461 = bearer(new_token(client, "admin", "461", name="admin-461"))
    admin_101 = bearer(new_token(client, "admin", "101", name="admin-101"))
    statistics = _statistics(client)

    known_elsewhere = _erase(client, "BOTH-C1", admin_461)
    known_here_only = _erase(client, "ONLY-D1", admin_461)

    assert known_elsewhere.status_code == known_here_only.status_code == 200, known_elsewhere.text
    assert known_elsewhere.json()["referral_ids"] == [both_461]
    assert _shape(known_elsewhere.json()) == _shape(known_here_only.json())
    assert known_elsewhere.headers.keys() == known_here_only.headers.keys()
    # 461's referrals read "erased"; 101's stay readable to 101, in the referral and in its lists.
    assert _citizen_of(client, both_461, admin_461) == ERASED
    assert _citizen_of(client, both_101, admin_101) == "BOTH-C1"
    assert _listed(client, admin_101)[both_101] == ("BOTH-C1", "SAG-2026-0042")
    assert _listed(client, admin_461)[both_461] == (ERASED, ERASED)
    ledger: CaseLedger = client.app.state.ledger  # type: ignore[attr-defined]
    assert ledger.privacy.referral_ids_of_citizen("BOTH-C1", municipality="101") == [UUID(both_101)]
    assert ledger.privacy.referral_ids_of_citizen("BOTH-C1", municipality="461") == []
    assert _statistics(client) == statistics
    assert client.get("/audit/verify").json()["ok"] is True
    # A repeat answers alike too; 101 sees no erasure of its own; a 101-only citizen is unknown to 461.
    again, again_here_only = _erase(client, "BOTH-C1", admin_461), _erase(client, "ONLY-D1", admin_461)
    assert again.json() == known_elsewhere.json() | {"already_erased": True}
    assert _shape(again.json()) == _shape(again_here_only.json())
    assert client.get("/audit/erasures", headers=admin_101).json() == []
    unknown = _erase(client, "NOBODY-Z9", admin_461)
    known_to_101 = _erase(client, "ONLY-E1", admin_461)
    assert_problem(known_to_101, 404, "citizen-not-found")
    assert known_to_101.json() == unknown.json()
    assert _citizen_of(client, only_101, admin_101) == "ONLY-E1"

    # 101's own erasure then erases its referral, and only that.
    by_101 = _erase(client, "BOTH-C1", admin_101)

    assert by_101.status_code == 200
    assert (by_101.json()["referral_ids"], by_101.json()["already_erased"]) == ([both_101], False)
    assert _citizen_of(client, both_101, admin_101) == ERASED
    assert _citizen_of(client, only_461, admin_461) == ERASED
    assert _statistics(client) == statistics


def test_an_admin_of_every_municipality_must_name_the_municipality_it_erases_for(client: TestClient) -> None:
    in_461 = bodies.referred(client, citizen_ref="NAMED-M1")
    in_101 = bodies.referred(client, citizen_ref="NAMED-M1", municipality="101")
    admin_461 = bearer(new_token(client, "admin", "461", name="admin-461"))

    assert_problem(_erase(client, "NAMED-M1", {}), 422, "municipality-required")
    assert_problem(_erase(client, "NAMED-M1", admin_461, municipality="101"), 403, "municipality-not-allowed")
    assert _citizen_of(client, in_461, {}) == _citizen_of(client, in_101, {}) == "NAMED-M1"

    named = _erase(client, "NAMED-M1", {}, municipality="101")

    assert named.status_code == 200, named.text
    assert named.json()["referral_ids"] == [in_101]
    assert (_citizen_of(client, in_461, {}), _citizen_of(client, in_101, {})) == ("NAMED-M1", ERASED)
    own = _erase(client, "NAMED-M1", admin_461, municipality="461")
    assert (own.status_code, own.json()["referral_ids"]) == (200, [in_461])


# -- a store from before the keys per municipality ------------------------------------------------------


def _legacy_prepare(keyring: Keyring) -> Any:
    """``Keyring.prepare`` as it was before the keys per municipality: one key per citizen, found by
    a blind index of the ``citizen_ref`` alone, with no municipality in its row."""

    def prepare(
        citizens: Any,
    ) -> tuple[dict[tuple[str, str], tuple[str, bytes]], list[NewCitizenKey]]:
        prepared: dict[tuple[str, str], tuple[str, bytes]] = {}
        new: list[NewCitizenKey] = []
        for citizen_ref, municipality in sorted(set(citizens)):
            blind = keyring.master.legacy_blind_index(citizen_ref)
            found = keyring.store.find_key(blind)
            made = next((p for (ref, _), p in prepared.items() if ref == citizen_ref), None)
            if found is not None:
                prepared[citizen_ref, municipality] = (found[0], keyring.master.unwrap(*found))
            elif made is not None:
                prepared[citizen_ref, municipality] = made
            else:
                key_id, dek = secrets.token_hex(16), secrets.token_bytes(KEY_BYTES)
                new.append((key_id, blind, keyring.master.wrap(key_id, dek), now(), None))
                prepared[citizen_ref, municipality] = (key_id, dek)
        return prepared, new

    return prepare


def _legacy_store(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Referrals filed the old way, in a key table of the old shape (no municipality column)."""
    with TestClient(create_app(Settings(database_url=db_url))) as old:
        authorize(old)
        ledger: CaseLedger = old.app.state.ledger  # type: ignore[attr-defined]
        with monkeypatch.context() as patch:
            patch.setattr(ledger.keyring, "prepare", _legacy_prepare(ledger.keyring))
            filed = {
                "shared_461": bodies.referred(old, citizen_ref="OLD-C1"),
                "shared_101": bodies.referred(old, citizen_ref="OLD-C1", municipality="101"),
                "alone_461": bodies.referred(old, citizen_ref="OLD-D1"),
                "gone_461": bodies.referred(old, citizen_ref="OLD-G1"),
                "gone_101": bodies.referred(old, citizen_ref="OLD-G1", municipality="101"),
            }
        # An erasure as it was: the shared key destroyed, for the referrals of every municipality.
        blind = ledger.keyring.master.legacy_blind_index("OLD-G1")
        found = ledger.citizen_keys.find_key(blind)
        assert found is not None
        record = ErasureRecord(str(uuid4()), found[0], [], now(), "old-admin", "asked before the upgrade")
        assert ledger.citizen_keys.erase(record, blind, own_key=found[0]) is not None
    for table, column in (
        ("caseledger_citizen_keys", "municipality"),
        ("caseledger_erasures", "municipality"),
        ("caseledger_erasures", "shared_key_id"),
    ):
        run_sql(db_url, f"ALTER TABLE {table} DROP COLUMN {column}")
    run_sql(db_url, "DROP TABLE caseledger_erased_referrals")
    return filed


def _key_of(db_url: str, referral_id: str) -> str:
    [(key_id,)] = run_sql(
        db_url, "SELECT key_id FROM caseledger_citizen_referrals WHERE referral_id = ?", [referral_id]
    )
    return str(key_id)


def _key_exists(db_url: str, key_id: str) -> bool:
    return bool(run_sql(db_url, "SELECT key_id FROM caseledger_citizen_keys WHERE key_id = ?", [key_id]))


def test_a_store_from_before_the_keys_per_municipality_is_upgraded_and_erased_per_municipality(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _legacy_store(db_url, monkeypatch)
    shared_key, alone_key = _key_of(db_url, old["shared_461"]), _key_of(db_url, old["alone_461"])
    assert _key_of(db_url, old["shared_101"]) == shared_key, "the old form: one key for both"

    with TestClient(create_app(Settings(database_url=db_url))) as client:
        authorize(client, name="admin-after-upgrade")
        admin_461 = bearer(new_token(client, "admin", "461", name="admin-461"))
        admin_101 = bearer(new_token(client, "admin", "101", name="admin-101"))
        # The old key still opens the old referrals; a new referral gets a key of 461's own.
        assert {_citizen_of(client, old[k], {}) for k in ("shared_461", "shared_101")} == {"OLD-C1"}
        new_461 = bodies.referred(client, citizen_ref="OLD-C1")
        assert _key_of(db_url, new_461) != shared_key
        assert _citizen_of(client, new_461, {}) == "OLD-C1"
        listed = _listed(client, {})

        shared = _erase(client, "OLD-C1", admin_461)
        alone = _erase(client, "OLD-D1", admin_461)

        assert shared.status_code == alone.status_code == 200, shared.text
        assert shared.json()["referral_ids"] == [old["shared_461"], new_461]
        assert _shape(shared.json()) | {"referrals": 1} == _shape(alone.json())
        for referral_id in (old["shared_461"], new_461, old["alone_461"]):
            assert _citizen_of(client, referral_id, admin_461) == ERASED
            assert _listed(client, admin_461)[referral_id] == (ERASED, ERASED)
        assert _citizen_of(client, old["shared_101"], admin_101) == "OLD-C1"
        assert _listed(client, admin_101)[old["shared_101"]] == listed[old["shared_101"]]
        # The shared key must stay for 101's referral; the key of a citizen of 461 alone is destroyed.
        assert (_key_exists(db_url, shared_key), _key_exists(db_url, alone_key)) == (True, False)
        ledger: CaseLedger = client.app.state.ledger  # type: ignore[attr-defined]
        assert ledger.privacy.referral_ids_of_citizen("OLD-C1", municipality="461") == []
        assert ledger.privacy.referral_ids_of_citizen("OLD-C1", municipality="101") == [
            UUID(old["shared_101"])
        ]
        again = _erase(client, "OLD-C1", admin_461)
        assert again.json() == shared.json() | {"already_erased": True}
        # An erasure made before the upgrade answers each municipality with its own referrals.
        for admin, place in ((admin_461, "461"), (admin_101, "101")):
            earlier = _erase(client, "OLD-G1", admin)
            assert earlier.status_code == 200, earlier.text
            assert earlier.json()["already_erased"] is True
            assert earlier.json()["referral_ids"] == [old[f"gone_{place}"]]
            assert _citizen_of(client, old[f"gone_{place}"], admin) == ERASED

        # A rebuild of the read models keeps 461's referral erased.
        rebuilt = CaseLedger(storage_env(db_url))
        db = ProjectionDatabase.from_env(storage_env(db_url))
        try:
            ProjectionRunner(db, rebuilt.read_events).rebuild()
        finally:
            db.close()
            rebuilt.close()
        assert _listed(client, admin_461)[old["shared_461"]] == (ERASED, ERASED)
        assert _listed(client, admin_101)[old["shared_101"]] == listed[old["shared_101"]]

        # Once 101 erases too, no referral needs the shared key: it is destroyed.
        by_101 = _erase(client, "OLD-C1", admin_101)

        assert (by_101.status_code, by_101.json()["referral_ids"]) == (200, [old["shared_101"]])
        assert _citizen_of(client, old["shared_101"], admin_101) == ERASED
        assert not _key_exists(db_url, shared_key)
        assert client.get("/audit/verify").json()["ok"] is True


def test_two_municipalities_erasing_one_shared_key_at_once_destroy_it(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _legacy_store(db_url, monkeypatch)
    shared_key = _key_of(db_url, old["shared_461"])
    ledger = CaseLedger(storage_env(db_url))
    try:
        barrier = threading.Barrier(2)

        def erase(municipality: str) -> dict[str, Any]:
            barrier.wait()
            return ledger.privacy.erase_citizen(
                "OLD-C1", municipality=municipality, actor=f"admin-{municipality}"
            )

        with ThreadPoolExecutor(2) as pool:
            by_461, by_101 = pool.map(erase, ["461", "101"])

        assert (by_461["referral_ids"], by_101["referral_ids"]) == ([old["shared_461"]], [old["shared_101"]])
        assert not _key_exists(db_url, shared_key)
        for referral_id in (old["shared_461"], old["shared_101"]):
            assert ledger.get_referral(UUID(referral_id)).citizen_ref == ERASED
    finally:
        ledger.close()
