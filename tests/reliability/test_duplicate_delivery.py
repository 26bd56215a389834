"""A case system that resends everything, and an API process killed between commit and response.

The API runs as a real uvicorn process with the test-only fault injection of
``tests.reliability.crashing_app`` (``CRASH_AFTER_COMMITS=N``): it SIGKILLs itself right after its N-th committed write,
before the answer leaves — the one window where a client cannot know whether its write was
stored. The client does what a case system must: it resends the same request (same
``Idempotency-Key``, same batch ``event_id``s) until it gets an answer, and then once more anyway.
Each event must be stored and projected exactly once, and the hash chain must stay whole.

Killing the real process is the convincing variant: nothing in the API gets to run after the
commit (no exception handler, no finally block, no response), exactly as with a crashed host.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api import bodies
from tests.reliability.conftest import scaled
from tests.reliability.crashing_app import CRASH_AFTER_COMMITS, FACTORY
from tests.reliability.server import ApiServer, admin_token
from tests.reliability.traffic import Ack, Api, Journal, assert_stored_exactly_once, event_id, wait_projected

pytestmark = pytest.mark.slow


class CrashingApi:
    """The API process, restarted after every crash with a new commit count to crash after."""

    def __init__(self, server: ApiServer, token: str, seed: int) -> None:
        self.server = server
        self.chance = random.Random(seed)
        self.crashes = 0
        self.client = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=20
        )
        self._restart()

    def _restart(self) -> None:
        self.server.stop()
        self.server.start({CRASH_AFTER_COMMITS: str(self.chance.randint(2, 6))})

    def send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
        """Until it is answered: a dropped connection means the process died; start it, resend."""
        while True:
            try:
                response = self.client.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                assert self.server.wait_dead(timeout=30) == -9, "only the injected SIGKILL ends it"
                self.crashes += 1
                self._restart()
                continue
            assert response.status_code != 503, response.text
            return response

    def close(self) -> None:
        self.client.close()
        self.server.stop()


def referral_steps(referral_id: str, supplier_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("referral.referred", "/referrals", bodies.referral(id=referral_id)),
        ("referral.matched", f"/referrals/{referral_id}/match", bodies.match(supplier_id)),
        (
            "referral.price_agreed",
            f"/referrals/{referral_id}/price-agreement",
            bodies.hourly_agreement(),
        ),
        ("referral.closed", f"/referrals/{referral_id}/closure", bodies.closure()),
    ]


def test_resent_requests_and_batches_are_stored_once_across_crashes_between_commit_and_response(
    db_url: str, tmp_path: Path
) -> None:
    token = admin_token(db_url)
    server = ApiServer(db_url, tmp_path / "api.log", factory=FACTORY)
    api = CrashingApi(server, token, seed=461)
    journal = Journal()
    try:
        supplier_id = str(uuid.uuid4())
        singles = [("supplier.registered", "/suppliers", bodies.supplier(id=supplier_id))]
        singles.append(
            ("supplier.price_list_negotiated", f"/suppliers/{supplier_id}/price-lists", bodies.price_list())
        )
        # Enough commits for at least three crashes (each after 2-6 commits): a batch is now one.
        for _ in range(scaled(4, 10)):
            singles += referral_steps(str(uuid.uuid4()), supplier_id)

        for kind, path, body in singles:
            headers = {"Idempotency-Key": f"dubu-{uuid.uuid4()}"}
            first = api.send("POST", path, body, headers)
            assert first.status_code in (200, 201), first.text
            result = first.json()
            journal.ack(
                Ack(result["id"], result["version"], result["position"], kind, headers["Idempotency-Key"])
            )
            again = api.send("POST", path, body, headers)  # delivered twice anyway
            assert (again.status_code, again.json()) == (first.status_code, result)

        batches = []
        for _ in range(scaled(3, 6)):
            items = []
            for _ in range(scaled(2, 3)):
                referral_id = str(uuid.uuid4())
                for kind, _path, body in referral_steps(referral_id, supplier_id):
                    data = {k: v for k, v in body.items() if k != "id"}
                    items.append(
                        {
                            "event_id": event_id(),
                            "type": kind,
                            "referral_id": referral_id,
                            "data": data,
                        }
                    )
            batches.append({"events": items, "source_system": "DUBU"})

        for batch in batches:
            first = api.send("POST", "/events", batch, {})
            assert first.status_code == 200, first.text
            results = first.json()["results"]
            assert {r["status"] for r in results} <= {"accepted", "duplicate"}, results
            for item, result in zip(batch["events"], results, strict=True):
                journal.ack(
                    Ack(result["id"], result["version"], result["position"], item["type"], item["event_id"])
                )
            again = api.send("POST", "/events", batch, {})
            assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * len(results)
            assert [(r["id"], r["version"], r["position"]) for r in again.json()["results"]] == [
                (r["id"], r["version"], r["position"]) for r in results
            ]

        assert api.crashes >= scaled(3, 15), f"only {api.crashes} crashes happened"

        reader = Api(api.server.base_url, token, Journal())
        try:
            expected = len(singles) + sum(len(b["events"]) for b in batches)
            assert_stored_exactly_once(reader, journal, expected_total=expected)
            events = reader.get("/feed", after=0, limit=1000)
            event_ids = [
                e["source"]["event_id"] for e in events if e.get("source") and e["source"].get("event_id")
            ]
            assert len(event_ids) == len(set(event_ids)) == sum(len(b["events"]) for b in batches)
            assert reader.get("/audit/verify")["ok"] is True
            wait_projected(reader)
            referrals = {a.stream_id for a in journal.acks if a.kind == "referral.referred"}
            assert reader.get("/referrals", page_size=1)["total"] == len(referrals)
            agreements = sum(row["agreements"] for row in reader.get("/reports/price-benchmarks"))
            assert agreements == len(referrals)
        finally:
            reader.close()
    finally:
        api.close()
