"""Reports as known at an earlier position or instant: exactly the answer the read models gave when
the log ended there, however much was recorded since (a retroactive adjustment into a past month,
another referral, a closure); business filters combine with it; bad values are refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import assert_problem, created

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
