"""A case system as a client: it sends lifecycles over HTTP and resends, with the same
``Idempotency-Key``, every request that did not get a final answer (503, a dropped connection).

Every answer is recorded, so that tests can assert which statuses were seen and how long each took.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api import bodies

FINAL = {200, 201, 409, 412}
"""Statuses a client takes as the answer (anything else is resent, or is a failure)."""
REQUEST_TIMEOUT = 20.0
"""Longer than any bounded server-side wait, so that a hang shows up as a timeout."""


@dataclass
class Seen:
    """One answer (or transport error) and how long it took."""

    method: str
    path: str
    status: int | None
    seconds: float
    retry_after: str | None = None
    error: str | None = None


@dataclass
class Ack:
    """A write the API acknowledged: the client may rely on it being stored exactly once."""

    stream_id: str
    version: int
    position: int
    kind: str
    key: str


@dataclass
class Journal:
    """Everything the clients saw, shared by the threads."""

    seen: list[Seen] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, entry: Seen) -> None:
        with self.lock:
            self.seen.append(entry)

    def ack(self, entry: Ack) -> None:
        with self.lock:
            self.acks.append(entry)

    def statuses(self) -> set[int | None]:
        with self.lock:
            return {s.status for s in self.seen}


class Api:
    """An HTTP client of the API that resends on 503 (and, if asked, on a dropped connection)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        journal: Journal,
        *,
        resend_on_transport_error: bool = False,
        give_up_after: float = 120.0,
    ) -> None:
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT
        )
        self.journal = journal
        self.resend_on_transport_error = resend_on_transport_error
        self.give_up_after = give_up_after

    def close(self) -> None:
        self.client.close()

    def call(
        self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Send until the answer is final; the same request (and key) every time."""
        deadline = time.monotonic() + self.give_up_after
        while True:
            started = time.monotonic()
            try:
                response = self.client.request(method, path, json=json, headers=headers)
            except httpx.TransportError as error:
                self.journal.record(
                    Seen(method, path, None, time.monotonic() - started, error=type(error).__name__)
                )
                if not self.resend_on_transport_error or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
                continue
            self.journal.record(
                Seen(
                    method,
                    path,
                    response.status_code,
                    time.monotonic() - started,
                    response.headers.get("retry-after"),
                )
            )
            if response.status_code != 503 or time.monotonic() > deadline:
                return response
            time.sleep(0.2)

    def write(
        self, path: str, body: Any, kind: str, *, key: str | None = None, if_match: int | None = None
    ) -> httpx.Response:
        """A write with its own idempotency key; an acknowledged one is journalled."""
        key = key or f"{kind}-{uuid.uuid4()}"
        headers = {"Idempotency-Key": key}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = self.call("POST", path, json=body, headers=headers)
        if response.status_code in (200, 201):
            result = response.json()
            self.journal.ack(Ack(result["id"], result["version"], result["position"], kind, key))
        return response

    def get(self, path: str, **params: Any) -> Any:
        response = self.call("GET", path, headers=None) if not params else self._get(path, params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.call("GET", f"{path}?{query}")


def event_id() -> str:
    """A unique batch ``event_id`` made of letters only. (A random UUID would now and then hold ten
    digits that form a CPR-like number — about 1 in 1000 — and be rejected by docs/domain.md rule 7.)"""
    return "ev-" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex)


def supplier_with_prices(api: Api) -> str:
    response = api.write("/suppliers", bodies.supplier(), "supplier.registered")
    assert response.status_code == 201, response.text
    supplier_id: str = response.json()["id"]
    response = api.write(
        f"/suppliers/{supplier_id}/price-lists", bodies.price_list(), "supplier.price_list_negotiated"
    )
    assert response.status_code == 200, response.text
    return supplier_id


LIFECYCLE = ("referral.referred", "referral.matched", "referral.price_agreed", "referral.closed")


def lifecycle(api: Api, supplier_id: str, *, close: bool = True) -> str:
    """refer → match → agree price (→ close), each step acknowledged before the next."""
    referral_id = str(uuid.uuid4())
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("/referrals", bodies.referral(id=referral_id), "referral.referred"),
        (f"/referrals/{referral_id}/match", bodies.match(supplier_id), "referral.matched"),
        (f"/referrals/{referral_id}/price-agreement", bodies.hourly_agreement(), "referral.price_agreed"),
    ]
    if close:
        steps.append((f"/referrals/{referral_id}/closure", bodies.closure(), "referral.closed"))
    for path, body, kind in steps:
        response = api.write(path, body, kind)
        assert response.status_code in (200, 201), (kind, response.status_code, response.text)
    return referral_id


def all_events(api: Api) -> list[dict[str, Any]]:
    """Every stored event, through ``/feed``."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = api.get("/feed", after=after, limit=1000)
        if not page:
            return events
        events += page
        after = page[-1]["position"]


def wait_projected(api: Api, timeout: float = 60.0, *, writes_go_on: bool = False) -> dict[str, Any]:
    """Wait until the projections have processed every stored event; the final /readyz.

    With ``writes_go_on`` (writers still busy), until they have processed every event stored when
    the store first answered: while commits stream in, lag 0 at the instant of asking is luck."""
    deadline = time.monotonic() + timeout
    target: int | None = None
    while True:
        response = api.call("GET", "/readyz")
        if response.status_code == 200:
            ready: dict[str, Any] = response.json()
            if writes_go_on and target is None:
                target = ready["storage"]["last_position"]
            position = ready["projections"]["position"]
            if ready["projections"]["lag"] == 0 or (target is not None and (position or 0) >= target):
                return ready
        if time.monotonic() > deadline:
            msg = f"projections did not catch up within {timeout} s: {response.text}"
            raise AssertionError(msg)
        time.sleep(0.1)


def assert_stored_exactly_once(api: Api, journal: Journal, expected_total: int | None = None) -> None:
    """Every acknowledged write is in the store once, at the version and position it was
    acknowledged with; nothing is in the store that was not acknowledged."""
    events = all_events(api)
    stored = {(e["stream_id"], e["version"]): e for e in events}
    assert len(stored) == len(events), "one event per stream and version"
    acked = {(a.stream_id, a.version): a for a in journal.acks}
    for (stream, version), ack in acked.items():
        event = stored.get((stream, version))
        assert event is not None, f"acknowledged {ack} is not stored"
        assert event["type"] == ack.kind, (ack, event["type"])
        assert event["position"] == ack.position, (ack, event["position"])
    assert set(stored) == set(acked), f"stored but never acknowledged: {sorted(set(stored) - set(acked))}"
    if expected_total is not None:
        assert len(events) == expected_total
