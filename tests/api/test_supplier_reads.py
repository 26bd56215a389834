"""A match or a price agreement reads its supplier from a copy kept by the API process, and that copy
never hides a price list stored since: by this process, by another one, or earlier in the same batch."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from application.service import batch
from tests.api import bodies
from tests.api.bodies import events_of
from tests.api.test_idempotency_and_concurrency import item, post_batch
from tests.tokens import authorize

RAISED = bodies.price_list(
    negotiated_on="2026-01-05",
    valid_from="2026-01-01",
    rates=[bodies.rate("family-treatment", "hour", "900.00")],
)
"""A later list for the same municipality and intervention: 850.00 → 900.00 from 2026-01-01."""


def agreed_list_rate(client: TestClient, referral_id: str) -> Any:
    (agreed,) = [
        e for e in events_of(client, "referrals", referral_id) if e["type"] == "referral.price_agreed"
    ]
    return agreed["data"]["list_rate"]


def test_an_agreement_after_a_new_price_list_reads_the_new_list_rate(client: TestClient) -> None:
    referral_id, supplier_id = bodies.matched(client)  # the match kept a copy of the supplier
    bodies.created(client.post(f"/suppliers/{supplier_id}/price-lists", json=RAISED), 200)

    # 880.00 is above the old list rate (850.00) but not the new one: no rationale needed
    agreement = bodies.hourly_agreement("880.00")
    bodies.created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)

    assert agreed_list_rate(client, referral_id) == "900.00"


def test_a_price_list_stored_by_another_process_is_read_by_the_next_command(
    client: TestClient, db_url: str
) -> None:
    referral_id, supplier_id = bodies.matched(client)
    with TestClient(create_app(Settings(database_url=db_url))) as other:
        authorize(other, name="other-process")
        bodies.created(other.post(f"/suppliers/{supplier_id}/price-lists", json=RAISED), 200)

    response = client.post(
        f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement("880.00")
    )
    bodies.created(response, 200)
    assert agreed_list_rate(client, referral_id) == "900.00"


def test_a_kept_copy_that_is_still_current_gives_the_same_answers(client: TestClient) -> None:
    """Unchanged supplier, read twice: the second match and agreement read the kept copy."""
    first, supplier_id = bodies.matched(client)
    second, _ = bodies.matched(client, supplier_id=supplier_id)
    for referral_id in (first, second):
        above = client.post(
            f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement("880.00")
        )
        bodies.assert_problem(above, 409, "rationale-required-above-list-rate")
        bodies.created(
            client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement("850.00")),
            200,
        )
        assert agreed_list_rate(client, referral_id) == "850.00"


def test_a_batch_reads_its_own_price_list_also_after_a_flush_forgot_what_it_held(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supplier is read (kept copy), then given a new list by the batch, then read again after
    the session dropped its cached aggregates: the batch's own write wins over the kept copy."""
    monkeypatch.setattr(batch, "DEFAULT_FLUSH_EVENTS", 1)
    original = batch.BatchSession.__init__

    def forgetful(self: batch.BatchSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "max_cached": 0})  # every flush drops the cache

    monkeypatch.setattr(batch.BatchSession, "__init__", forgetful)
    supplier_id = bodies.supplier_with_prices(client)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    results = post_batch(
        client,
        [
            item("s-1", "referral.referred", bodies.referral(), referral_id=first),
            item("s-2", "referral.matched", bodies.match(supplier_id), referral_id=first),
            item("s-3", "supplier.price_list_negotiated", RAISED, supplier_id=supplier_id),
            item("s-4", "referral.referred", bodies.referral(), referral_id=second),
            item("s-5", "referral.matched", bodies.match(supplier_id), referral_id=second),
            item("s-6", "referral.price_agreed", bodies.hourly_agreement("880.00"), referral_id=second),
        ],
    )

    assert [r["status"] for r in results] == ["accepted"] * 6, results
    assert agreed_list_rate(client, second) == "900.00"
