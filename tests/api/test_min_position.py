"""``min_position``: a position the log has reached is waited for; one beyond its end is refused at
once, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api import bodies


def test_a_min_position_beyond_the_end_of_the_log_is_refused_at_once(client: TestClient) -> None:
    written = client.post("/referrals", json=bodies.referral())
    assert written.status_code == 201, written.text
    position = written.json()["position"]

    started = time.monotonic()
    response = client.get("/referrals", params={"min_position": position + 1})
    seconds = time.monotonic() - started

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/position-beyond-log"
    assert seconds < 1


def test_a_min_position_the_log_has_reached_is_answered(client: TestClient) -> None:
    written = client.post("/referrals", json=bodies.referral())
    position = written.json()["position"]

    response = client.get("/referrals", params={"min_position": position})

    assert response.status_code == 200, response.text
