"""A batch starts from the aggregates earlier batches of the same process left (``KeptAggregates``)
while they are still at their last stored version, and reads them from the store otherwise; the
suppliers it only reads are checked in one query per batch. Neither ever hides a write made since,
by this process or by another one, nor keeps personal data in plaintext."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from application.privacy.envelopes import WITHHELD
from application.service.caseledger import CaseLedger
from tests.api import bodies
from tests.api.bodies import events_of
from tests.api.test_idempotency_and_concurrency import item, post_batch
from tests.api.test_supplier_reads import RAISED, agreed_list_rate
from tests.tokens import authorize


def ledger_of(client: TestClient) -> CaseLedger:
    ledger: CaseLedger = client.app.state.ledger  # type: ignore[attr-defined]
    return ledger


@pytest.fixture
def store_loads(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[UUID]:
    """The ids of the aggregates commands read (and replay) from the store, in order."""
    ledger = ledger_of(client)
    loaded: list[UUID] = []
    original: Callable[..., Any] = ledger.sealed_repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        loaded.append(aggregate_id)
        return original(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(ledger.sealed_repository, "get", get)
    return loaded


def accepted(results: list[dict[str, Any]]) -> None:
    assert [r["status"] for r in results] == ["accepted"] * len(results), results


def types_of(client: TestClient, referral_id: str) -> list[str]:
    return [e["type"] for e in events_of(client, "referrals", referral_id)]


def refer_and_match(client: TestClient, prefix: str, referral_id: str, supplier_id: str) -> None:
    """One batch that files and matches a referral (both accepted)."""
    items = [
        item(f"{prefix}-1", "referral.referred", bodies.referral(), referral_id=referral_id),
        item(f"{prefix}-2", "referral.matched", bodies.match(supplier_id), referral_id=referral_id),
    ]
    accepted(post_batch(client, items))


@contextmanager
def another_process(db_url: str) -> Iterator[TestClient]:
    """The API as a second process on the same database would serve it."""
    with TestClient(create_app(Settings(database_url=db_url))) as other:
        yield authorize(other, name="other-process")


def test_the_next_batch_continues_a_referral_without_reading_it_again(
    client: TestClient, store_loads: list[UUID]
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = str(uuid.uuid4())
    refer_and_match(client, "k", referral_id, supplier_id)
    store_loads.clear()

    results = post_batch(
        client, [item("k-3", "referral.price_agreed", bodies.hourly_agreement(), referral_id=referral_id)]
    )

    accepted(results)
    assert results[0]["version"] == 3
    assert UUID(referral_id) not in store_loads
    assert types_of(client, referral_id) == ["referral.referred", "referral.matched", "referral.price_agreed"]
    assert client.get(f"/referrals/{referral_id}").json()["status"] == "active"


def test_a_referral_written_by_another_process_in_between_is_read_again(
    client: TestClient, db_url: str, store_loads: list[UUID]
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = str(uuid.uuid4())
    refer_and_match(client, "o", referral_id, supplier_id)
    with another_process(db_url) as other:
        agreement = other.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement())
        bodies.created(agreement, 200)
    store_loads.clear()

    # the kept copy (version 2) would refuse an extension of a referral with no price agreed
    results = post_batch(
        client, [item("o-3", "referral.extended", bodies.extension(), referral_id=referral_id)]
    )

    accepted(results)
    assert results[0]["version"] == 4
    assert store_loads.count(UUID(referral_id)) == 1
    assert types_of(client, referral_id)[-2:] == ["referral.price_agreed", "referral.extended"]


def test_a_kept_copy_holds_no_personal_data_in_plaintext(client: TestClient) -> None:
    referral_id = str(uuid.uuid4())
    filed = bodies.referral(citizen_ref="C-kept-1", case_ref="SAG-kept-1", purpose="Støtte i hjemmet")
    accepted(post_batch(client, [item("p-1", "referral.referred", filed, referral_id=referral_id)]))

    kept = ledger_of(client).writes.kept.take(UUID(referral_id), 1)

    assert kept is not None
    assert (kept.citizen_ref, kept.case_ref, kept.purpose) == (WITHHELD,) * 3  # type: ignore[attr-defined]
    shown = client.get(f"/referrals/{referral_id}").json()
    assert (shown["citizen_ref"], shown["case_ref"], shown["purpose"]) == (
        "C-kept-1",
        "SAG-kept-1",
        "Støtte i hjemmet",
    )


def test_a_rejected_item_leaves_the_next_batch_the_stored_state(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = str(uuid.uuid4())
    results = post_batch(
        client,
        [
            item("r-1", "referral.referred", bodies.referral(), referral_id=referral_id),
            item("r-2", "referral.matched", bodies.match(supplier_id), referral_id=referral_id),
            item("r-3", "referral.price_agreed", bodies.hourly_agreement(), referral_id=referral_id),
            # an end before the agreed one: refused
            item("r-4", "referral.extended", bodies.extension("2026-03-01"), referral_id=referral_id),
        ],
    )
    assert [r["status"] for r in results] == ["accepted"] * 3 + ["rejected"], results

    results = post_batch(
        client, [item("r-5", "referral.extended", bodies.extension(), referral_id=referral_id)]
    )

    accepted(results)
    assert results[0]["version"] == 4
    assert client.get(f"/referrals/{referral_id}").json()["end"] == "2026-04-30"


def test_the_next_batch_reads_a_price_list_another_process_stored_in_between(
    client: TestClient, db_url: str, store_loads: list[UUID]
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    refer_and_match(client, "l", first, supplier_id)
    with another_process(db_url) as other:
        bodies.created(other.post(f"/suppliers/{supplier_id}/price-lists", json=RAISED), 200)
    store_loads.clear()

    results = post_batch(
        client,
        [
            item("l-3", "referral.referred", bodies.referral(), referral_id=second),
            item("l-4", "referral.matched", bodies.match(supplier_id), referral_id=second),
            # above the old list rate (850.00), not the new one (900.00): no rationale needed
            item("l-5", "referral.price_agreed", bodies.hourly_agreement("880.00"), referral_id=second),
        ],
    )

    accepted(results)
    assert agreed_list_rate(client, second) == "900.00"
    assert store_loads.count(UUID(supplier_id)) == 1  # read again once, then the batch's copy


def test_an_unchanged_supplier_is_checked_not_read_by_the_next_batch(
    client: TestClient, store_loads: list[UUID]
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    store_loads.clear()
    referral_ids = [str(uuid.uuid4()) for _ in range(3)]
    for n, referral_id in enumerate(referral_ids):
        refer_and_match(client, f"u-{n}", referral_id, supplier_id)

    assert store_loads.count(UUID(supplier_id)) == 1  # the first batch reads it; the others check it
    for referral_id in referral_ids:
        assert client.get(f"/referrals/{referral_id}").json()["supplier_id"] == supplier_id
