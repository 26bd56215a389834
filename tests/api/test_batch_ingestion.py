"""Batch ingestion commits many items per transaction, yet each item stands or falls on its own.

``POST /events`` runs its items in a batch session (``application.service.batch``): checks see the items
before them, accepted items are saved a chunk at a time with their ``event_id`` claims. These tests
make the chunks small to see the chunk boundaries: a failure between chunks, a resend, a lost race.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from application.service import batch
from tests.api import bodies
from tests.api.bodies import events_of, last_position
from tests.api.test_idempotency_and_concurrency import item, post_batch


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flush after every 2 events, so that a short batch spans several transactions."""
    monkeypatch.setattr(batch, "DEFAULT_FLUSH_EVENTS", 2)


def lifecycle(prefix: str, referral_id: str, supplier_id: str) -> list[dict[str, Any]]:
    """Refer, match (expecting version 1, written earlier in the batch), agree, extend."""
    return [
        item(f"{prefix}-1", "referral.referred", bodies.referral(), referral_id=referral_id),
        item(
            f"{prefix}-2",
            "referral.matched",
            bodies.match(supplier_id),
            referral_id=referral_id,
            expected_version=1,
        ),
        item(f"{prefix}-3", "referral.price_agreed", bodies.hourly_agreement("850"), referral_id=referral_id),
        item(
            f"{prefix}-4",
            "referral.extended",
            bodies.extension(),
            referral_id=referral_id,
            expected_version=3,
        ),
    ]


def saves(client: TestClient) -> Any:
    return client.app.state.ledger  # type: ignore[attr-defined]


def adjust_before_the_first_save(monkeypatch: pytest.MonkeyPatch, client: TestClient, busy: str) -> None:
    """Another request adjusts referral ``busy`` after the batch has read it, just before the
    batch's first save: that save then loses the race."""
    ledger = saves(client)
    original: Callable[..., Any] = ledger.writes.save
    raced = {"done": False}

    def concurrent_write_first(*objs: Any, **kwargs: Any) -> Any:
        if not raced["done"]:
            raced["done"] = True
            response = client.post(f"/referrals/{busy}/adjustment", json=bodies.adjustment("2026-03-01"))
            assert response.status_code == 200, response.text
        return original(*objs, **kwargs)

    monkeypatch.setattr(ledger.writes, "save", concurrent_write_first)


@pytest.mark.usefixtures("small_chunks")
def test_items_spanning_several_chunks_see_the_items_before_them(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    first_items = lifecycle("a", first, supplier_id)
    items = [
        *first_items,
        # rejected in the middle: the version it expects is not the current one
        item("x-1", "referral.closed", bodies.closure(), referral_id=first, expected_version=2),
        # a repeat of an event id accepted earlier in the same batch: a duplicate
        first_items[1],
        *lifecycle("b", second, supplier_id),
        item("x-2", "referral.closed", bodies.closure(), referral_id=first, expected_version=4),
    ]
    before = last_position(client)
    results = post_batch(client, items)

    assert [r["status"] for r in results] == ["accepted"] * 4 + ["rejected", "duplicate"] + ["accepted"] * 5
    assert results[4]["problem"]["status"] == 412
    assert (results[5]["id"], results[5]["version"], results[5]["position"]) == (
        results[1]["id"],
        results[1]["version"],
        results[1]["position"],
    )
    accepted = [r for r in results if r["status"] == "accepted"]
    assert [r["position"] for r in accepted] == list(range(before + 1, before + 10))
    assert [e["type"] for e in events_of(client, "referrals", first)] == [
        "referral.referred",
        "referral.matched",
        "referral.price_agreed",
        "referral.extended",
        "referral.closed",
    ]
    assert client.get(f"/referrals/{second}").json()["status"] == "active"
    assert client.get("/audit/verify").json()["ok"] is True


@pytest.mark.usefixtures("small_chunks")
def test_a_failure_between_chunks_keeps_the_stored_items_and_a_resend_completes_the_rest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = str(uuid.uuid4())
    items = lifecycle("c", referral_id, supplier_id)
    ledger = saves(client)
    original: Callable[..., Any] = ledger.writes.save
    calls = {"n": 0}

    def save_then_fail(*objs: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("the database went away")
        return original(*objs, **kwargs)

    before = last_position(client)
    monkeypatch.setattr(ledger.writes, "save", save_then_fail)
    response = client.post("/events", json={"events": items, "source_system": "DUBU"})
    assert response.status_code == 503
    # the first chunk (two events, each with its claim) is stored, the second is not at all
    assert last_position(client) == before + 2
    monkeypatch.setattr(ledger.writes, "save", original)

    results = post_batch(client, items)
    assert [r["status"] for r in results] == ["duplicate", "duplicate", "accepted", "accepted"]
    assert [r["version"] for r in results] == [1, 2, 3, 4]
    assert [r["position"] for r in results] == list(range(before + 1, before + 5))
    assert len(events_of(client, "referrals", referral_id)) == 4
    assert client.get("/audit/verify").json()["ok"] is True


def test_a_chunk_that_loses_a_race_is_applied_again_item_by_item(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = bodies.active(client)
    fresh = str(uuid.uuid4())
    items = [
        item("r-1", "referral.referred", bodies.referral(), referral_id=fresh),
        item("r-2", "referral.extended", bodies.extension(), referral_id=busy),
    ]
    adjust_before_the_first_save(monkeypatch, client, busy)
    results = post_batch(client, items)

    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert [e["type"] for e in events_of(client, "referrals", busy)][-2:] == [
        "referral.adjusted",
        "referral.extended",
    ]
    assert results[1]["version"] == len(events_of(client, "referrals", busy))
    assert len(events_of(client, "referrals", fresh)) == 1
    assert client.get("/audit/verify").json()["ok"] is True


def test_a_cvr_registered_earlier_in_the_batch_is_taken(client: TestClient) -> None:
    cvr = bodies.new_cvr()
    results = post_batch(
        client,
        [
            item("s-1", "supplier.registered", bodies.supplier(cvr), supplier_id=str(uuid.uuid4())),
            item("s-2", "supplier.registered", bodies.supplier(cvr), supplier_id=str(uuid.uuid4())),
        ],
    )
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["problem"]["type"] == "/problems/cvr-already-registered"


def test_an_event_id_reused_in_the_batch_for_another_item_is_rejected(client: TestClient) -> None:
    results = post_batch(
        client,
        [
            item("same", "referral.referred", bodies.referral(), referral_id=str(uuid.uuid4())),
            item("same", "referral.referred", bodies.referral(), referral_id=str(uuid.uuid4())),
        ],
    )
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["problem"]["type"] == "/problems/idempotency-key-reused"


@pytest.mark.usefixtures("small_chunks")
def test_a_chunk_losing_a_race_while_the_next_one_is_checked_reruns_both_item_by_item(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = bodies.active(client)
    fresh, other = str(uuid.uuid4()), str(uuid.uuid4())
    items = [
        item("p-1", "referral.extended", bodies.extension(), referral_id=busy),
        item("p-2", "referral.referred", bodies.referral(), referral_id=fresh),
        # the first chunk (p-1, p-2) is being stored while these are checked
        item("p-3", "referral.referred", bodies.referral(), referral_id=other),
        item("p-4", "referral.closed", bodies.closure(closed_on="2026-01-20"), referral_id=other),
    ]
    adjust_before_the_first_save(monkeypatch, client, busy)
    results = post_batch(client, items)

    assert [r["status"] for r in results] == ["accepted"] * 4
    assert [e["type"] for e in events_of(client, "referrals", busy)][-2:] == [
        "referral.adjusted",
        "referral.extended",
    ]
    assert [e["type"] for e in events_of(client, "referrals", other)] == [
        "referral.referred",
        "referral.closed",
    ]
    assert len(events_of(client, "referrals", fresh)) == 1
    assert results[3]["position"] == last_position(client)
    assert client.get("/audit/verify").json()["ok"] is True


def test_a_batch_sent_again_answers_each_item_duplicate_with_the_position_it_was_stored_at(
    client: TestClient,
) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    items = [item for n in range(3) for item in lifecycle(f"again-{n}", str(uuid.uuid4()), supplier_id)]
    first = post_batch(client, items)
    before = last_position(client)

    again = post_batch(client, items)

    assert [r["status"] for r in first] == ["accepted"] * len(items)
    assert [r["status"] for r in again] == ["duplicate"] * len(items)
    assert [(r["id"], r["version"], r["position"]) for r in again] == [
        (r["id"], r["version"], r["position"]) for r in first
    ]
    assert last_position(client) == before
