"""Many clients issuing conflicting commands on the same referrals at once, with and without
If-Match, against the API as a real server process: no acknowledged write is lost or overwritten,
every refusal is 409 (a rule or the state forbids it) or 412 (If-Match did not match), and each
referral's history is a valid lifecycle in which every decision follows the one before it.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api import bodies
from tests.reliability.conftest import scaled, started_server
from tests.reliability.traffic import Api, Journal, supplier_with_prices, wait_projected

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    referral_id: str
    command: str
    if_match: int | None
    status: int
    body: dict[str, Any]


def some_day(chance: random.Random, first: str, last: str) -> str:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return (start + timedelta(days=chance.randint(0, (end - start).days))).isoformat()


def command(chance: random.Random, referral_id: str, suppliers: list[str]) -> tuple[str, str, dict[str, Any]]:
    """A random command on a referral; many will conflict with the state others leave behind."""
    kind = chance.choices(
        ["match", "price-agreement", "extension", "adjustment", "closure"], weights=[4, 3, 4, 4, 1]
    )[0]
    body: dict[str, Any]
    if kind == "match":
        body = bodies.match(chance.choice(suppliers), rationale=f"Fit {uuid.uuid4().hex[:6]}")
    elif kind == "price-agreement":
        body = bodies.hourly_agreement(hours_per_week=str(chance.randint(1, 9)))
    elif kind == "extension":
        body = bodies.extension(new_end=some_day(chance, "2026-04-01", "2026-12-31"))
    elif kind == "adjustment":
        body = bodies.adjustment(
            some_day(chance, "2026-01-15", "2026-03-31"), hours_per_week=str(chance.randint(1, 9))
        )
    else:
        body = bodies.closure(reason=chance.choice(["goal_achieved", "moved", "withdrawn"]))
    return kind, f"/referrals/{referral_id}/{kind}", body


TYPE_OF = {
    "match": "referral.matched",
    "price-agreement": "referral.price_agreed",
    "extension": "referral.extended",
    "adjustment": "referral.adjusted",
    "closure": "referral.closed",
}


def assert_valid_lifecycle(events: list[dict[str, Any]]) -> str:
    """Replay the history: each event is allowed in the state the ones before it left, and each
    decision that names the previous state (supplier, end) names the one it really followed."""
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "referral.referred"
    status, supplier, end = "referred", None, None
    for event in events[1:]:
        kind, data = event["type"], event["data"]
        assert status != "closed", f"{kind} after closed"
        if kind == "referral.matched":
            assert status in ("referred", "matched"), (status, kind)
            assert data["previous_supplier_id"] == supplier, "a re-match records the supplier it replaced"
            status, supplier = "matched", data["supplier_id"]
        elif kind == "referral.price_agreed":
            assert status == "matched", (status, kind)
            assert data["supplier_id"] == supplier
            status, end = "active", data["end"]
        elif kind == "referral.extended":
            assert status == "active", (status, kind)
            assert data["previous_end"] == end, "an extension extends the end it was decided on"
            assert data["new_end"] > end
            end = data["new_end"]
        elif kind == "referral.adjusted":
            assert status == "active", (status, kind)
        else:
            assert kind == "referral.closed", kind
            status = "closed"
    return status


def test_conflicting_commands_from_many_clients_lose_no_update(db_url: str, tmp_path: Path) -> None:
    server, token = started_server(db_url, tmp_path)
    journal = Journal()
    admin = Api(server.base_url, token, journal)
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    failures: list[BaseException] = []
    try:
        suppliers = [supplier_with_prices(admin) for _ in range(2)]
        referrals = []
        for _ in range(scaled(3, 10)):
            response = admin.write("/referrals", bodies.referral(), "referral.referred")
            referrals.append(response.json()["id"])
        barrier = threading.Barrier(scaled(8, 16))

        def client(seed: int) -> None:
            chance = random.Random(seed)
            api = Api(server.base_url, token, journal)
            try:
                barrier.wait(timeout=30)
                for _ in range(scaled(15, 60)):
                    referral_id = chance.choice(referrals)
                    kind, path, body = command(chance, referral_id, suppliers)
                    if_match = None
                    if chance.random() < 0.5:
                        current = api.call("GET", f"/referrals/{referral_id}")
                        if_match = int(current.headers["etag"].strip('"'))
                    response = api.write(path, body, TYPE_OF[kind], if_match=if_match)
                    with lock:
                        outcomes.append(
                            Outcome(referral_id, kind, if_match, response.status_code, response.json())
                        )
            except BaseException as error:
                failures.append(error)
            finally:
                api.close()

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(barrier.parties)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures

        by_status: dict[int, int] = defaultdict(int)
        for outcome in outcomes:
            by_status[outcome.status] += 1
            assert outcome.status in (200, 409, 412), (outcome.status, outcome.body)
            if outcome.status == 412:
                assert outcome.if_match is not None, "412 only when If-Match was sent"
                assert outcome.body["type"] == "/problems/version-mismatch"
            if outcome.status == 409:
                assert outcome.body["status"] == 409 and outcome.body["type"].startswith("/problems/")
            if outcome.status == 200 and outcome.if_match is not None:
                assert outcome.body["version"] == outcome.if_match + 1, "If-Match wins only on that version"
        assert by_status[200] and by_status[409] and by_status[412], dict(by_status)

        statuses = {}
        for referral_id in referrals:
            events = admin.get(f"/referrals/{referral_id}/events")
            statuses[referral_id] = assert_valid_lifecycle(events)
            accepted = [o for o in outcomes if o.referral_id == referral_id and o.status == 200]
            versions = sorted(o.body["version"] for o in accepted)
            assert versions == list(range(2, len(events) + 1)), "each acknowledged write has its own version"
            for outcome in accepted:
                stored = events[outcome.body["version"] - 1]
                assert stored["type"] == TYPE_OF[outcome.command], "the acknowledged write is the stored one"
                assert admin.get(f"/referrals/{referral_id}")["status"] == statuses[referral_id]

        wait_projected(admin)
        listed = admin.get("/referrals", page_size=100)
        assert listed["total"] == len(referrals)
        assert {item["id"]: item["status"] for item in listed["items"]} == statuses
    finally:
        admin.close()
        server.stop()
