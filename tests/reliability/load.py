"""Concurrent mixed traffic against a running API — writes, batches, reports, audit reads — and the
checks that follow it: only documented answers, flat memory, and projections that count exactly
what the event store holds. Used by ``tests/reliability/test_load.py`` (short) and
``benchmarks/soak.py`` (minutes).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api import bodies
from tests.reliability.traffic import Api, Journal, all_events, event_id, supplier_with_prices, wait_projected

EXPECTED = {200, 201, 409, 412}
"""What this traffic may be answered: results, and the documented refusals of stale or late commands."""


@dataclass
class LoadReport:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int | None] = field(default_factory=Counter)
    by_route: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss_kib: list[tuple[float, int]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def memory_growth_kib(self, warm_up: float = 0.3) -> int:
        """Mean RSS of the last quarter of the run minus that of the quarter after the warm-up."""
        samples = [kib for t, kib in self.rss_kib if t >= warm_up * self.seconds]
        quarter = max(1, len(samples) // 4)
        return int(statistics.mean(samples[-quarter:]) - statistics.mean(samples[:quarter]))

    def latency_ms(self, q: float) -> float:
        every = sorted(s for times in self.by_route.values() for s in times)
        return 1000 * every[min(len(every) - 1, int(q * len(every)))] if every else 0.0


class Client:
    """One case system / report user / auditor, choosing its next request at random."""

    def __init__(self, api: Api, suppliers: list[str], seed: int, report: LoadReport, lock: threading.Lock):
        self.api = api
        self.suppliers = suppliers
        self.chance = random.Random(seed)
        self.report = report
        self.lock = lock
        self.referrals: list[tuple[str, str]] = []  # (id, status) of the ones this client drives

    def note(self, route: str, response: Any, seconds: float) -> None:
        with self.lock:
            self.report.requests += 1
            self.report.statuses[response.status_code] += 1
            self.report.by_route[route].append(seconds)
            if response.status_code not in EXPECTED:
                self.report.unexpected.append(f"{route}: {response.status_code} {response.text[:300]}")

    def request(self, route: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        response = self.api.client.request(method, path, **kwargs)
        self.note(route, response, time.monotonic() - started)
        return response

    def step(self) -> None:
        roll = self.chance.random()
        if roll < 0.35:
            self.write()
        elif roll < 0.45:
            self.batch()
        elif roll < 0.75:
            self.read_report()
        else:
            self.read_audit()

    def _key(self) -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())}

    def write(self) -> None:
        open_ones = [(i, r) for i, r in enumerate(self.referrals) if r[1] != "closed"]
        if not open_ones or self.chance.random() < 0.3:
            response = self.request(
                "refer", "POST", "/referrals", json=bodies.referral(), headers=self._key()
            )
            if response.status_code == 201:
                self.referrals.append((response.json()["id"], "referred"))
            return
        index, (referral_id, status) = self.chance.choice(open_ones)
        base = f"/referrals/{referral_id}"
        if self.chance.random() < 0.1:  # a command on a stale version: 412, nothing written
            self.request(
                "stale", "POST", f"{base}/closure", json=bodies.closure(), headers={"If-Match": '"1"'}
            )
            return
        if self.chance.random() < 0.1:
            self.request("close", "POST", f"{base}/closure", json=bodies.closure(), headers=self._key())
            self.referrals[index] = (referral_id, "closed")
            return
        if status == "referred":
            body = bodies.match(self.chance.choice(self.suppliers))
            if (
                self.request("match", "POST", f"{base}/match", json=body, headers=self._key()).status_code
                == 200
            ):
                self.referrals[index] = (referral_id, "matched")
        elif status == "matched":
            body = bodies.hourly_agreement(hours_per_week=str(self.chance.randint(1, 8)))
            response = self.request(
                "agree", "POST", f"{base}/price-agreement", json=body, headers=self._key()
            )
            if response.status_code == 200:
                self.referrals[index] = (referral_id, "active")
        else:
            day = f"2026-{self.chance.randint(1, 3):02d}-{self.chance.randint(15, 28)}"
            body = bodies.adjustment(day, hours_per_week=str(self.chance.randint(1, 8)))
            self.request("adjust", "POST", f"{base}/adjustment", json=body, headers=self._key())

    def batch(self) -> None:
        items = []
        for _ in range(3):
            referral_id = str(uuid.uuid4())
            items.append(
                {
                    "event_id": event_id(),
                    "type": "referral.referred",
                    "referral_id": referral_id,
                    "data": bodies.referral(),
                }
            )
            items.append(
                {
                    "event_id": event_id(),
                    "type": "referral.matched",
                    "referral_id": referral_id,
                    "data": bodies.match(self.chance.choice(self.suppliers)),
                }
            )
        response = self.request("batch", "POST", "/events", json={"events": items, "source_system": "DUBU"})
        if response.status_code == 200:
            for result in response.json()["results"]:
                if result["status"] != "accepted":
                    with self.lock:
                        self.report.unexpected.append(f"batch item {result}")

    def read_report(self) -> None:
        path = self.chance.choice(
            [
                "/reports/suppliers",
                "/reports/spending?from=2026-01&to=2026-12&by=supplier",
                "/reports/price-benchmarks",
                "/referrals?status=active&page_size=20",
            ]
        )
        self.request(path.split("?")[0], "GET", path)

    def read_audit(self) -> None:
        if self.referrals and self.chance.random() < 0.5:
            referral_id = self.chance.choice(self.referrals)[0]
            path = self.chance.choice([f"/audit/referrals/{referral_id}", f"/referrals/{referral_id}/events"])
            self.request(path.rsplit("/", 1)[0] if "events" in path else "/audit/referrals", "GET", path)
        else:
            path = self.chance.choice(
                ["/audit/decisions?page=1", f"/feed?after={self.chance.randint(0, 500)}&limit=100"]
            )
            self.request(path.split("?")[0], "GET", path)


def run_load(
    base_url: str, token: str, *, seconds: float, clients: int, rss: Callable[[], int], seed: int = 1
) -> LoadReport:
    """Drive ``clients`` concurrent clients for ``seconds``; sample the server's memory each second."""
    report = LoadReport()
    lock = threading.Lock()
    setup = Api(base_url, token, Journal())
    suppliers = [supplier_with_prices(setup) for _ in range(3)]
    setup.close()
    stop = threading.Event()
    failures: list[BaseException] = []

    def drive(n: int) -> None:
        api = Api(base_url, token, Journal())
        client = Client(api, suppliers, seed * 1000 + n, report, lock)
        try:
            while not stop.is_set():
                client.step()
        except BaseException as error:
            failures.append(error)
        finally:
            api.close()

    threads = [threading.Thread(target=drive, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while time.monotonic() - started < seconds:
        report.rss_kib.append((time.monotonic() - started, rss()))
        time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    report.seconds = time.monotonic() - started
    if failures:
        raise failures[0]
    return report


def projection_counts_match_the_store(base_url: str, token: str) -> dict[str, Any]:
    """Fold the event store's own events into counts, and read the same counts from every report
    that carries one; returns both (equal when all is well)."""
    api = Api(base_url, token, Journal())
    try:
        ready = wait_projected(api, timeout=120)
        events = all_events(api)
        status: dict[str, str] = {}
        supplier_of: dict[str, str] = {}
        agreements = 0
        for event in events:
            if event["stream_type"] != "referral":
                continue
            kind, stream = event["type"], event["stream_id"]
            if kind == "referral.referred":
                status[stream] = "referred"
            elif kind == "referral.matched":
                status[stream], supplier_of[stream] = "matched", event["data"]["supplier_id"]
            elif kind == "referral.price_agreed":
                status[stream] = "active"
                agreements += 1
            elif kind == "referral.closed":
                status[stream] = "closed"
        per_status = Counter(status.values())
        from_store = {
            "events": len(events),
            "referral_events": sum(1 for e in events if e["stream_type"] == "referral"),
            "referrals": len(status),
            **{f"referrals_{s}": per_status.get(s, 0) for s in ("referred", "matched", "active", "closed")},
            "with_supplier": len(supplier_of),
            "active_with_supplier": sum(1 for r in supplier_of if status[r] == "active"),
            "agreements": agreements,
        }
        overview = api.get("/reports/suppliers")
        from_projections = {
            "events": ready["projections"]["position"] and len(events),
            "referral_events": api.get("/audit/decisions", page_size=1)["total"],
            "referrals": api.get("/referrals", page_size=1)["total"],
            **{
                f"referrals_{s}": api.get("/referrals", status=s, page_size=1)["total"]
                for s in ("referred", "matched", "active", "closed")
            },
            "with_supplier": sum(row["total_referrals"] for row in overview),
            "active_with_supplier": sum(row["active_referrals"] for row in overview),
            "agreements": sum(row["agreements"] for row in api.get("/reports/price-benchmarks")),
        }
        assert ready["projections"]["position"] == ready["storage"]["last_position"] == events[-1]["position"]
        return {"store": from_store, "projections": from_projections}
    finally:
        api.close()
