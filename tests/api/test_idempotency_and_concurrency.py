"""Retries, batches and races: a retried write appends nothing, a stale version never wins.

docs/domain.md rule 8 and docs/api.md's idempotency, batch ingestion and concurrency conventions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import pytest
from fastapi.testclient import TestClient

from api.batch_items import _earlier_item_fingerprint
from api.commands import COMMANDS
from api.schemas import BatchItemIn
from application.keys import event_key
from application.storage.recording import KEYS_TABLE
from tests.api import bodies
from tests.api.bodies import LIFECYCLE, assert_problem, created, events_of, last_position
from tests.storage import run_sql

RACE_ROUNDS = 20


# -- Idempotency-Key ---------------------------------------------------------------------------------


def _create_referral(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return "/referrals", bodies.referral(), bodies.referral(purpose="Another purpose altogether")


def _match(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    supplier_id = bodies.supplier_with_prices(client)
    path = f"/referrals/{bodies.referred(client)}/match"
    return path, bodies.match(supplier_id), bodies.match(supplier_id, rationale="A different rationale")


def _agree(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    referral_id, _ = bodies.matched(client)
    return (
        f"/referrals/{referral_id}/price-agreement",
        bodies.hourly_agreement(),
        bodies.hourly_agreement(800),
    )


def _close(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    path = f"/referrals/{bodies.active(client)}/closure"
    return path, bodies.closure(), bodies.closure(reason="moved")


def _register(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    body = bodies.supplier()
    return "/suppliers", body, body | {"name": "Renamed ApS"}


def _price_list(client: TestClient) -> tuple[str, dict[str, Any], dict[str, Any]]:
    path = f"/suppliers/{bodies.register_supplier(client)}/price-lists"
    return path, bodies.price_list(), bodies.price_list(negotiated_on="2025-12-02")


WRITES: dict[str, Callable[[TestClient], tuple[str, dict[str, Any], dict[str, Any]]]] = {
    "create-referral": _create_referral,
    "match": _match,
    "price-agreement": _agree,
    "closure": _close,
    "register-supplier": _register,
    "price-list": _price_list,
}
CREATES = {"create-referral": 201, "register-supplier": 201}


class Write(NamedTuple):
    """One kind of write set up for a retry: where, what, another body, a fresh key, the success status."""

    path: str
    body: dict[str, Any]
    other: dict[str, Any]
    key: dict[str, str]
    status: int


@pytest.fixture(params=list(WRITES))
def write(request: pytest.FixtureRequest, client: TestClient) -> Write:
    path, body, other = WRITES[request.param](client)
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    return Write(path, body, other, key, CREATES.get(request.param, 200))


def test_a_replayed_post_with_the_same_idempotency_key_returns_the_first_answer_and_appends_nothing(
    client: TestClient, write: Write
) -> None:
    path, body, _, key, status = write
    first = client.post(path, json=body, headers=key)
    result = created(first, status)
    after_first = last_position(client)
    assert result["position"] == after_first

    for _ in range(3):
        again = client.post(path, json=body, headers=key)
        assert again.status_code == first.status_code
        assert again.json() == result
        assert again.headers["etag"] == first.headers["etag"]
    assert last_position(client) == after_first


def test_the_same_idempotency_key_with_another_body_is_rejected_with_422(
    client: TestClient, write: Write
) -> None:
    path, body, other, key, status = write
    created(client.post(path, json=body, headers=key), status)
    before = last_position(client)

    problem = assert_problem(client.post(path, json=other, headers=key), 422, "idempotency-key-reused")
    assert "Idempotency-Key" in problem["detail"]
    assert last_position(client) == before


def test_a_retried_create_without_an_id_returns_the_same_new_referral(client: TestClient) -> None:
    key = {"Idempotency-Key": "case-system-msg-4711"}
    first = created(client.post("/referrals", json=bodies.referral(), headers=key))
    second = created(client.post("/referrals", json=bodies.referral(), headers=key))
    assert second == first
    assert len(events_of(client, "referrals", first["id"])) == 1


def test_the_same_idempotency_key_on_another_path_is_rejected_with_422(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    first, second = bodies.referred(client), bodies.referred(client)
    key = {"Idempotency-Key": "same-key"}
    created(client.post(f"/referrals/{first}/match", json=bodies.match(supplier_id), headers=key), 200)
    before = last_position(client)
    response = client.post(f"/referrals/{second}/match", json=bodies.match(supplier_id), headers=key)
    assert_problem(response, 422, "idempotency-key-reused")
    assert last_position(client) == before
    assert len(events_of(client, "referrals", second)) == 1


def test_an_equal_body_written_differently_is_a_replay(client: TestClient) -> None:
    referral_id, _ = bodies.matched(client)
    path, key = f"/referrals/{referral_id}/price-agreement", {"Idempotency-Key": "k-850"}
    first = created(client.post(path, json=bodies.hourly_agreement("850.00", "3.00"), headers=key), 200)
    again = created(client.post(path, json=bodies.hourly_agreement(850, 3), headers=key), 200)
    assert again == first
    assert len(events_of(client, "referrals", referral_id)) == 3


def test_a_replay_answers_the_first_result_even_after_the_referral_moved_on(client: TestClient) -> None:
    referral_id = bodies.active(client)
    path, key = f"/referrals/{referral_id}/extension", {"Idempotency-Key": "extend-once", "If-Match": '"3"'}
    first = created(client.post(path, json=bodies.extension(), headers=key), 200)
    created(client.post(f"/referrals/{referral_id}/adjustment", json=bodies.adjustment("2026-02-01")), 200)
    before = last_position(client)

    again = client.post(path, json=bodies.extension(), headers=key)
    assert again.status_code == 200, "a replay is not a stale If-Match"
    assert again.json() == first
    assert last_position(client) == before
    assert [e["type"] for e in events_of(client, "referrals", referral_id)][-2:] == [
        "referral.extended",
        "referral.adjusted",
    ]


def test_a_rejected_request_does_not_use_up_its_idempotency_key(client: TestClient) -> None:
    key = {"Idempotency-Key": "first-try-had-a-cpr"}
    assert_problem(
        client.post("/referrals", json=bodies.referral(purpose="cpr 150385-1234"), headers=key), 422
    )
    created(client.post("/referrals", json=bodies.referral(), headers=key))


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "key with spaces", "nøgle".encode()], ids=["empty", "long", "spaces", "utf8"]
)
def test_an_unusable_idempotency_key_is_rejected_with_422(client: TestClient, key: str | bytes) -> None:
    response = client.post("/referrals", json=bodies.referral(), headers={"Idempotency-Key": key})
    assert_problem(response, 422, "invalid-idempotency-key")
    assert last_position(client) == 0


# -- batch ingestion -------------------------------------------------------------------------------


def item(
    event_id: str,
    kind: str,
    data: dict[str, Any],
    *,
    referral_id: str | None = None,
    supplier_id: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """One ``POST /events`` item."""
    body: dict[str, Any] = {"event_id": event_id, "type": kind, "data": data}
    if referral_id is not None:
        body["referral_id"] = referral_id
    if supplier_id is not None:
        body["supplier_id"] = supplier_id
    if expected_version is not None:
        body["expected_version"] = expected_version
    return body


def good_items(supplier_id: str, referral_id: str) -> list[dict[str, Any]]:
    """A supplier with prices and a referral taken to active and extended: six items all accepted."""
    return [
        item("s-1", "supplier.registered", bodies.supplier(), supplier_id=supplier_id),
        item("s-2", "supplier.price_list_negotiated", bodies.price_list(), supplier_id=supplier_id),
        item("r-1", "referral.referred", bodies.referral(), referral_id=referral_id),
        item(
            "r-2", "referral.matched", bodies.match(supplier_id), referral_id=referral_id, expected_version=1
        ),
        item("r-3", "referral.price_agreed", bodies.hourly_agreement("850"), referral_id=referral_id),
        item("r-4", "referral.extended", bodies.extension(), referral_id=referral_id, expected_version=3),
    ]


def post_batch(client: TestClient, items: list[Any], source: str = "DUBU") -> list[dict[str, Any]]:
    response = client.post("/events", json={"events": items, "source_system": source})
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert [r["event_id"] for r in results] == [
        i.get("event_id") if isinstance(i, dict) else None for i in items
    ]
    return results


def test_a_batch_applies_items_in_order_each_on_its_own(client: TestClient) -> None:
    supplier_id, referral_id = str(uuid.uuid4()), str(uuid.uuid4())
    good = good_items(supplier_id, referral_id)
    items = [
        *good[:4],
        # rejected in the middle: a rate above the list rate without a rationale
        item("bad-rate", "referral.price_agreed", bodies.hourly_agreement("900"), referral_id=referral_id),
        *good[4:],
    ]
    results = post_batch(client, items)

    assert [r["status"] for r in results] == ["accepted"] * 4 + ["rejected"] + ["accepted"] * 2
    assert [(r["id"], r["version"]) for r in results if r["status"] == "accepted"] == [
        (supplier_id, 1),
        (supplier_id, 2),
        (referral_id, 1),
        (referral_id, 2),
        (referral_id, 3),
        (referral_id, 4),
    ]
    positions = [r["position"] for r in results if r["status"] == "accepted"]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert positions[-1] == last_position(client)
    rejected = results[4]
    assert rejected["problem"]["status"] == 409
    assert rejected["problem"]["type"] == "/problems/rationale-required-above-list-rate"
    assert "id" not in rejected or rejected["id"] is None

    events = events_of(client, "referrals", referral_id)
    assert [e["type"] for e in events] == LIFECYCLE[:4]  # referred, matched, price agreed, extended
    assert events[2]["data"]["hourly_rate"] == "850.00"
    assert [e["source"] for e in events] == [
        {"system": "DUBU", "event_id": event_id} for event_id in ("r-1", "r-2", "r-3", "r-4")
    ]
    assert client.get(f"/referrals/{referral_id}").json()["end"] == "2026-04-30"


def test_a_resent_batch_answers_duplicates_with_the_first_results_and_appends_nothing(
    client: TestClient,
) -> None:
    referral_id = str(uuid.uuid4())
    supplier_id = bodies.supplier_with_prices(client)
    items = [
        item("e-1", "referral.referred", bodies.referral(), referral_id=referral_id),
        item("e-2", "referral.matched", bodies.match(str(uuid.uuid4())), referral_id=referral_id),
        item("e-3", "referral.matched", bodies.match(supplier_id), referral_id=referral_id),
    ]
    first = post_batch(client, items)
    assert [r["status"] for r in first] == ["accepted", "rejected", "accepted"]
    assert first[1]["problem"]["type"] == "/problems/supplier-not-registered"
    before = last_position(client)

    again = post_batch(client, items)
    assert [r["status"] for r in again] == ["duplicate", "rejected", "duplicate"]
    for original, repeat in zip(first, again, strict=True):
        if original["status"] == "accepted":
            assert (repeat["id"], repeat["version"], repeat["position"]) == (
                original["id"],
                original["version"],
                original["position"],
            )
    assert last_position(client) == before
    assert len(events_of(client, "referrals", referral_id)) == 2


def test_a_duplicate_referred_item_without_an_id_answers_the_same_new_referral(client: TestClient) -> None:
    items = [item("new-1", "referral.referred", bodies.referral())]
    first = post_batch(client, items)
    again = post_batch(client, items)
    assert first[0]["status"] == "accepted" and again[0]["status"] == "duplicate"
    assert again[0]["id"] == first[0]["id"]
    assert last_position(client) == 1


def test_an_event_id_resent_with_other_data_is_rejected_with_422(client: TestClient) -> None:
    referral_id = str(uuid.uuid4())
    post_batch(client, [item("ev-9", "referral.referred", bodies.referral(), referral_id=referral_id)])
    changed = item("ev-9", "referral.referred", bodies.referral(purpose="Changed"), referral_id=referral_id)
    result = post_batch(client, [changed])[0]
    assert result["status"] == "rejected"
    assert result["problem"]["status"] == 422
    assert result["problem"]["type"] == "/problems/idempotency-key-reused"
    assert "event_id" in result["problem"]["detail"]
    assert last_position(client) == 1


def test_an_item_whose_expected_version_has_moved_on_is_rejected_with_412(client: TestClient) -> None:
    referral_id = bodies.active(client)
    before = last_position(client)
    results = post_batch(
        client,
        [
            item("x-1", "referral.extended", bodies.extension(), referral_id=referral_id, expected_version=2),
            item("x-2", "referral.closed", bodies.closure(), referral_id=referral_id, expected_version=3),
        ],
    )
    assert results[0]["status"] == "rejected"
    assert results[0]["problem"]["status"] == 412
    assert results[0]["problem"]["type"] == "/problems/version-mismatch"
    assert (results[1]["status"], results[1]["version"]) == ("accepted", 4)
    assert last_position(client) == before + 1


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        ({"event_id": "b-1", "type": "referral.invented", "data": {}}, 422),
        ({"event_id": "b-1", "type": "referral.referred", "data": {"purpose": "x"}}, 422),
        ({"event_id": "b-1", "type": "referral.matched", "data": bodies.match(str(uuid.uuid4()))}, 422),
        ({"type": "referral.referred", "data": bodies.referral()}, 422),
        (
            {"event_id": "b-1", "type": "referral.closed", "referral_id": "nope", "data": bodies.closure()},
            422,
        ),
        (
            {
                "event_id": "b-1",
                "type": "referral.closed",
                "referral_id": str(uuid.uuid4()),
                "data": bodies.closure(),
            },
            404,
        ),
        ({"event_id": "b-1", "type": "referral.referred", "data": bodies.referral(), "extra": 1}, 422),
        (
            {
                "event_id": "b-1",
                "type": "referral.referred",
                "data": bodies.referral(citizen_ref="1503851234"),
            },
            422,
        ),
        (
            {
                "event_id": "b-1",
                "type": "referral.referred",
                "data": bodies.referral(purpose="nul\u0000byte"),
            },
            422,
        ),
        ("not an object", 422),
        ([1, 2], 422),
    ],
    ids=[
        "unknown-type",
        "incomplete-data",
        "no-target-id",
        "no-event-id",
        "bad-target-id",
        "unknown-target",
        "unknown-field",
        "cpr",
        "nul-character",
        "string-item",
        "list-item",
    ],
)
def test_a_bad_item_is_rejected_alone_with_its_problem(client: TestClient, bad: Any, status: int) -> None:
    good = item("g-1", "referral.referred", bodies.referral())
    results = post_batch(client, [bad, good])
    assert results[0]["status"] == "rejected"
    assert results[0]["problem"]["status"] == status
    assert results[0]["problem"]["detail"]
    assert results[1]["status"] == "accepted"
    assert last_position(client) == 1


def test_a_batch_above_the_item_limit_is_rejected_whole(client: TestClient) -> None:
    limit = client.app.state.settings.max_batch_items  # type: ignore[attr-defined]
    items = [item(f"many-{i}", "referral.referred", bodies.referral()) for i in range(limit + 1)]
    assert_problem(client.post("/events", json={"events": items}), 422, "batch-too-large")
    assert last_position(client) == 0


# -- races -----------------------------------------------------------------------------------------


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each on its own thread."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def race_adjustments(
    client: TestClient, referral_id: str, *adjustments: dict[str, Any], headers: dict[str, str] | None = None
) -> list[Any]:
    """Post the adjustments to one referral at the same moment, each with the same headers."""
    path = f"/referrals/{referral_id}/adjustment"
    return race([lambda b=body: client.post(path, json=b, headers=headers) for body in adjustments])


@pytest.fixture
def saves_meet(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Make the next ``n`` saves wait for each other, so that every writer has passed its checks.

    This forces the lost race deterministically: each request has loaded and checked the same
    version, and only the storage's uniqueness decides who wins.
    """
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    original = ledger.writes.save
    state: dict[str, Any] = {"barrier": None, "left": 0}
    lock = threading.Lock()

    def save(*args: Any, **kwargs: Any) -> Any:
        with lock:
            barrier = state["barrier"] if state["left"] > 0 else None
            state["left"] -= 1
        if barrier is not None:
            barrier.wait()
        return original(*args, **kwargs)

    def arm(n: int) -> None:
        state["barrier"], state["left"] = threading.Barrier(n, timeout=10), n

    monkeypatch.setattr(ledger.writes, "save", save)
    yield arm


def test_concurrent_commands_with_the_same_if_match_give_one_success_and_one_412(client: TestClient) -> None:
    referral_id = bodies.active(client)
    for round_ in range(RACE_ROUNDS):
        version = 3 + round_
        responses = race_adjustments(
            client,
            referral_id,
            bodies.adjustment("2026-02-01", hours_per_week="2"),
            bodies.adjustment("2026-03-01", hours_per_week="4"),
            headers={"If-Match": f'"{version}"'},
        )
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        assert winner.json()["version"] == version + 1
        assert_problem(next(r for r in responses if r.status_code == 412), 412, "version-mismatch")
        assert len(events_of(client, "referrals", referral_id)) == version + 1


def test_a_command_that_loses_the_race_at_storage_with_if_match_gets_412(
    client: TestClient, saves_meet: Callable[[int], None]
) -> None:
    referral_id = bodies.active(client)
    for _ in range(3):
        saves_meet(2)
        version = len(events_of(client, "referrals", referral_id))
        responses = race_adjustments(
            client,
            referral_id,
            bodies.adjustment("2026-02-01"),
            bodies.adjustment("2026-03-01"),
            headers={"If-Match": f'"{version}"'},
        )
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
        assert len(events_of(client, "referrals", referral_id)) == version + 1


def test_concurrent_commands_without_if_match_are_both_applied_one_after_the_other(
    client: TestClient, saves_meet: Callable[[int], None]
) -> None:
    referral_id = bodies.active(client)
    saves_meet(2)
    responses = race_adjustments(
        client,
        referral_id,
        bodies.adjustment("2026-02-01", hours_per_week="2"),
        bodies.adjustment("2026-03-01", hours_per_week="4"),
    )
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert sorted(r.json()["version"] for r in responses) == [4, 5]
    assert len(events_of(client, "referrals", referral_id)) == 5


@pytest.mark.parametrize("forced", [False, True], ids=["natural", "forced-at-storage"])
def test_concurrent_registrations_of_one_cvr_give_exactly_one_201(
    client: TestClient, saves_meet: Callable[[int], None], forced: bool
) -> None:
    for _ in range(5 if forced else 10):
        cvr = bodies.new_cvr()
        if forced:
            saves_meet(2)
        count = 2 if forced else 3
        responses = race(
            [
                lambda n=n, c=cvr: client.post(
                    "/suppliers", json=bodies.supplier(cvr=c, name=f"Supplier {n}")
                )
                for n in range(count)
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (count - 1), [r.text for r in responses]
        for loser in (r for r in responses if r.status_code == 409):
            assert_problem(loser, 409, "cvr-already-registered")
    assert last_position(client) == (5 if forced else 10)


def test_concurrent_retries_with_one_idempotency_key_create_one_referral(
    client: TestClient, saves_meet: Callable[[int], None]
) -> None:
    saves_meet(2)
    key = {"Idempotency-Key": "sent-twice-at-once"}
    responses = race([lambda: client.post("/referrals", json=bodies.referral(), headers=key)] * 2)
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    assert responses[0].json() == responses[1].json()
    assert last_position(client) == 1


@pytest.mark.parametrize(
    ("event_id", "source"),
    [("150385-1234", "DUBU"), ("evt-1", "DUBU 1503851234")],
    ids=["event-id", "source-system"],
)
def test_a_cpr_number_in_a_batch_event_id_or_source_system_is_rejected(
    client: TestClient, event_id: str, source: str
) -> None:
    results = post_batch(client, [item(event_id, "referral.referred", bodies.referral())], source=source)
    assert results[0]["status"] == "rejected"
    assert results[0]["problem"]["status"] == 422
    assert results[0]["problem"]["type"] == "/problems/cpr-number-in-text"
    assert last_position(client) == 0


def test_an_event_id_holding_ten_digits_that_read_as_a_cpr_number_is_accepted_and_its_resend_too(
    client: TestClient,
) -> None:
    """An identifier is not free text: a ``uuid4().hex``-like event id with 0101901234 in it (one
    in 900 of them) is accepted, and its resend is a duplicate; free text with that number is not."""
    event_id = "0101901234" + "ab" * 11
    assert len(event_id) == len(uuid.uuid4().hex)
    referral_id = str(uuid.uuid4())
    sent = item(event_id, "referral.referred", bodies.referral(), referral_id=referral_id)

    results = [post_batch(client, [sent])[0], post_batch(client, [sent])[0]]
    in_purpose = item(
        "evt-2",
        "referral.referred",
        bodies.referral(purpose=f"ref {event_id}"),
        referral_id=str(uuid.uuid4()),
    )
    refused = post_batch(client, [in_purpose])[0]

    assert [r["status"] for r in results] == ["accepted", "duplicate"]
    assert events_of(client, "referrals", referral_id)[0]["source"]["event_id"] == event_id
    assert refused["status"] == "rejected"
    assert refused["problem"]["type"] == "/problems/cpr-number-in-text"
    assert last_position(client) == 1


def test_an_item_resent_with_its_values_spelled_otherwise_is_a_duplicate(client: TestClient) -> None:
    referral_id = bodies.matched(client)[0]
    first = item(
        "sp-1", "referral.price_agreed", bodies.hourly_agreement("850.00", "3.00"), referral_id=referral_id
    )
    data = bodies.hourly_agreement(850, 3)
    respelled = item(
        "sp-1", "referral.price_agreed", dict(reversed(list(data.items()))), referral_id=referral_id
    )

    results = [post_batch(client, [first])[0], post_batch(client, [respelled])[0]]

    assert [r["status"] for r in results] == ["accepted", "duplicate"]
    assert results[1]["version"] == results[0]["version"] == 3


def test_an_item_claimed_before_the_current_fingerprint_form_is_still_recognised(
    client: TestClient, db_url: str
) -> None:
    """A claim stored by an earlier version (sorted JSON, no ``v2:``) answers a resend as before."""
    referral_id = str(uuid.uuid4())
    sent = item("old-1", "referral.referred", bodies.referral(), referral_id=referral_id)
    assert post_batch(client, [sent])[0]["status"] == "accepted"
    parsed = BatchItemIn.model_validate(sent)
    earlier = _earlier_item_fingerprint(parsed, COMMANDS[parsed.type].body.model_validate(parsed.data))
    key = event_key(bodies.ODENSE, "old-1")
    run_sql(db_url, f"UPDATE {KEYS_TABLE} SET fingerprint = ? WHERE key = ?", [earlier, key])
    assert run_sql(db_url, f"SELECT fingerprint FROM {KEYS_TABLE} WHERE key = ?", [key]) == [(earlier,)]
    changed = item("old-1", "referral.referred", bodies.referral(purpose="Changed"), referral_id=referral_id)

    again, other = post_batch(client, [sent])[0], post_batch(client, [changed])[0]

    assert again["status"] == "duplicate" and again["id"] == referral_id
    assert other["status"] == "rejected"
    assert other["problem"]["type"] == "/problems/idempotency-key-reused"
    assert last_position(client) == 1
