"""Reports as known at an earlier position or instant: exactly the answer the read models gave when
the log ended there, however much was recorded since (a retroactive adjustment into a past month,
another referral, a closure); business filters combine with it; bad values are refused."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from projections.database import ProjectionDatabase
from projections.known_at import STORES, scratch_schema_prefix
from projections.reports import Reports
from projections.runner import ProjectionRunner
from projections.spending import SpendingQuery
from tests.api import bodies
from tests.api.bodies import assert_problem, created
from tests.storage import POSTGRES_ADMIN_URL, database_url, storage_env

REPORTS = [
    ("/reports/spending", {}),
    ("/reports/spending", {"by": "supplier", "from": "2026-02", "to": "2026-03"}),
    ("/reports/suppliers", {}),
    ("/reports/price-benchmarks", {}),
    ("/referrals", {"status": "active"}),
    ("/audit/decisions", {"type": "referral.adjusted"}),
]


def read(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def live(client: TestClient, path: str, **params: Any) -> Any:
    return read(client, path, min_position=bodies.last_position(client), **params)


def later_history(client: TestClient, referral_id: str) -> None:
    """What is recorded after the capture: a retroactive adjustment into February (a past month by
    then), a second referral, a closure."""
    adjustment = bodies.adjustment("2026-02-01", hourly_rate="900.00", hours_per_week="4")
    created(client.post(f"/referrals/{referral_id}/adjustment", json=adjustment), 200)
    bodies.active(client)
    created(client.post(f"/referrals/{referral_id}/closure", json=bodies.closure("2026-03-15")), 200)


def test_known_at_a_position_gives_exactly_the_answer_captured_there(client: TestClient) -> None:
    referral_id = bodies.active(client)
    captured_at = bodies.last_position(client)
    captured = {(path, str(params)): live(client, path, **params) for path, params in REPORTS}

    later_history(client, referral_id)

    for path, params in REPORTS:
        now = live(client, path, **params)
        assert now != captured[(path, str(params))] or path == "/reports/price-benchmarks", path
        again = read(client, path, known_at_position=captured_at, **params)
        assert again == captured[(path, str(params))], path


def test_the_spending_figures_known_at_the_capture_are_the_ones_of_the_terms_then(client: TestClient) -> None:
    referral_id = bodies.active(client)
    captured_at = bodies.last_position(client)
    later_history(client, referral_id)

    then = read(client, "/reports/spending", known_at_position=captured_at)
    now = live(client, "/reports/spending")

    # 850.00 DKK/h × 3 h/week, 2026-01-15..2026-03-31 (docs/domain.md's example).
    assert [(row["month"], row["amount"]) for row in then["rows"]] == [
        ("2026-01", "6192.86"),
        ("2026-02", "10200.00"),
        ("2026-03", "11292.86"),
    ]
    assert then["basis"]["position"] == captured_at
    assert now["basis"]["position"] == bodies.last_position(client)
    february_now = next(row["amount"] for row in now["rows"] if row["month"] == "2026-02")
    assert february_now != "10200.00"


def test_known_at_an_instant_is_the_last_position_recorded_by_then(client: TestClient) -> None:
    referral_id = bodies.active(client)
    captured_at = bodies.last_position(client)
    captured = live(client, "/reports/spending")
    recorded_at = bodies.events_of(client, "referrals", referral_id)[-1]["recorded_at"]
    later_history(client, referral_id)

    then = read(client, "/reports/spending", known_at=recorded_at)

    assert then["rows"] == captured["rows"]
    assert then["basis"]["position"] == captured_at
    assert then["basis"]["chain_head"] == captured["basis"]["chain_head"]
    assert then["basis"]["known_at"] == recorded_at


def test_known_at_in_the_future_or_beyond_the_log_is_the_head(client: TestClient) -> None:
    referral_id = bodies.active(client)
    later_history(client, referral_id)
    now = live(client, "/reports/spending")

    beyond = read(client, "/reports/spending", known_at_position=10**12)
    future = read(client, "/reports/spending", known_at="2999-01-01T00:00:00+00:00")

    assert beyond == now
    assert future["rows"] == now["rows"]
    assert future["basis"]["position"] == now["basis"]["position"]


def test_known_at_before_the_first_event_is_the_empty_report(client: TestClient) -> None:
    bodies.active(client)
    empty = read(client, "/reports/spending", known_at="2000-01-01T00:00:00Z")
    assert empty["rows"] == []
    assert empty["basis"]["position"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"known_at_position": "-1"},
        {"known_at_position": "seven"},
        {"known_at": "yesterday"},
        {"known_at": "2026-03-01T00:00:00"},  # no offset: which instant is meant is unknown
        {"known_at": "2026-03-01T00:00:00Z", "known_at_position": "3"},
    ],
)
def test_bad_knowledge_times_are_refused(client: TestClient, params: dict[str, str]) -> None:
    for path in ("/reports/spending", "/referrals", "/audit/decisions", "/reports/suppliers"):
        assert_problem(client.get(path, params=params), 422)


def random_history(client: TestClient, rng: random.Random, steps: int) -> None:
    """Hourly referrals, then adjustments (often effective in months already past), extensions and
    closures in random order; refused commands (an extension of a closed referral, …) are skipped."""
    referrals: list[str] = []
    day = lambda: f"2026-{rng.randint(1, 4):02d}-{rng.randint(1, 28):02d}"  # noqa: E731
    for _ in range(steps):
        kind = rng.choice(["new", "adjust", "adjust", "extend", "close"]) if referrals else "new"
        if kind == "new":
            hours = str(rng.randint(1, 12))
            referrals.append(bodies.active(client, bodies.hourly_agreement(hours_per_week=hours)))
            continue
        referral_id = rng.choice(referrals)
        if kind == "adjust":
            body = bodies.adjustment(
                day(), hourly_rate=f"{rng.randint(700, 950)}.00", hours_per_week=str(rng.randint(1, 12))
            )
            path = "adjustment"
        elif kind == "extend":
            body, path = (
                bodies.extension(f"2026-{rng.randint(4, 8):02d}-{rng.randint(1, 28):02d}"),
                "extension",
            )
        else:
            body, path = bodies.closure(day()), "closure"
        response = client.post(f"/referrals/{referral_id}/{path}", json=body)
        assert response.status_code < 500, response.text


def unsealed(item: dict[str, Any]) -> dict[str, Any]:
    """A referral-list row without the personal fields (the API opens them; the read model keeps
    them sealed)."""
    return {key: value for key, value in item.items() if key not in {"citizen_ref", "case_ref"}}


@pytest.mark.parametrize("seed", [1, 2])
def test_known_at_equals_a_store_folded_from_the_events_up_to_that_position(
    client: TestClient, db_url: str, tmp_path: Path, seed: int
) -> None:
    """The oracle: read models of a store of their own, folded by the live runner three events at
    a time from the events up to each position (the known-at answer comes from a bulk rebuild)."""
    random_history(client, random.Random(seed), steps=14)
    ledger = client.app.state.ledger  # type: ignore[attr-defined]
    head = bodies.last_position(client)
    end = [0]

    def upto(after: int, limit: int) -> list[tuple[int, Any]]:
        return [(p, e) for p, e in ledger.read_events(after, limit) if p <= end[0]]

    kind = "sqlite" if db_url.startswith("sqlite") else "postgres"
    (tmp_path / "oracle").mkdir()
    with database_url(kind, tmp_path / "oracle") as oracle_url:
        oracle_db = ProjectionDatabase.from_env(storage_env(oracle_url))
        try:
            oracle = ProjectionRunner(oracle_db, upto, batch_size=3)
            totals = set()
            for position in sorted({1, head // 3, head // 2, head - 5, head - 1, head}):
                end[0] = position
                oracle.catch_up()
                for by in (None, "supplier", "intervention", "legal_basis", "municipality"):
                    expected = Reports(oracle_db).spending(SpendingQuery(by=by))
                    params = {"known_at_position": position, **({"by": by} if by else {})}
                    found = read(client, "/reports/spending", **params)
                    assert found.pop("basis")["position"] == position
                    assert found == expected, (position, by)
                    totals.add(found["total"])
                expected_page = Reports(oracle_db).referrals({}, 1, 500)
                page = read(client, "/referrals", known_at_position=position, page_size=500)
                assert [unsealed(item) for item in page["items"]] == [
                    unsealed(item) for item in expected_page["items"]
                ], position
            assert len(totals) > 3  # the positions compared are different histories
        finally:
            oracle_db.close()


def test_the_access_log_records_the_knowledge_time_of_a_referral_list_read(client: TestClient) -> None:
    bodies.active(client)
    position = bodies.last_position(client)
    read(client, "/referrals", known_at_position=position - 1)
    read(client, "/audit/decisions", known_at="2026-01-01T00:00:00Z")

    entries = read(client, "/audit/access-log")["items"]

    queries = {entry["action"]: entry["query"] for entry in entries}
    assert queries["referral.list"]["known_at_position"] == str(position - 1)
    assert queries["audit.decisions"]["known_at"] == "2026-01-01T00:00:00Z"


def scratch_stores(client: TestClient, db_url: str) -> set[str]:
    """The scratch stores that exist: SQLite files in the known-at directory, or PostgreSQL schemas."""
    known_at = client.app.state.known_at  # type: ignore[attr-defined]
    if db_url.startswith("sqlite"):
        directory = known_at._directory
        return {path.name for path in directory.glob("*.sqlite")} if directory else set()
    # Only this database's: other tests (in another process) build scratch stores of their own.
    prefix = scratch_schema_prefix(known_at.db.schema)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [prefix]
        ).fetchall()
    return {str(name) for (name,) in rows}


def test_scratch_stores_are_kept_up_to_their_bound_and_removed_when_evicted(
    client: TestClient, db_url: str
) -> None:
    for _ in range(STORES + 2):
        bodies.register_supplier(client)
    before = scratch_stores(client, db_url)

    for position in range(1, STORES + 2):
        read(client, "/reports/price-benchmarks", known_at_position=position)
    kept = scratch_stores(client, db_url) - before
    read(client, "/reports/price-benchmarks", known_at_position=STORES + 1)  # the newest: kept, no build

    assert len(kept) == STORES
    assert scratch_stores(client, db_url) - before == kept
    client.app.state.known_at.close()  # type: ignore[attr-defined]
    assert scratch_stores(client, db_url) - before == set()


def test_the_spending_report_known_at_a_past_position_is_read_from_the_spending_log(
    client: TestClient, db_url: str
) -> None:
    """No scratch store for the spending report by a grouping or one dimension; a query on two
    dimensions at once (answered from the monthly rows) still has one built."""
    referral_id = bodies.active(client)
    captured_at = bodies.last_position(client)
    supplier = live(client, "/reports/spending", by="supplier")["rows"][0]["key"]
    queries = [{}, {"by": "supplier"}, {"by": "intervention", "supplier_id": supplier}]
    captured = [live(client, "/reports/spending", **params) for params in queries]
    later_history(client, referral_id)
    before = scratch_stores(client, db_url)

    for params, then in zip(queries[:2], captured, strict=False):
        assert read(client, "/reports/spending", known_at_position=captured_at, **params) == then
    assert scratch_stores(client, db_url) - before == set()
    two_dimensions = read(client, "/reports/spending", known_at_position=captured_at, **queries[2])
    assert two_dimensions == captured[2]
    assert len(scratch_stores(client, db_url) - before) == 1
