"""Valid request bodies for the HTTP tests, and a few helpers that drive the API through them.

Each builder returns a fresh dict that the API accepts as is; tests override single fields with
keyword arguments.
"""

from __future__ import annotations

import copy
import random
import threading
from typing import Any

from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"
ODENSE = "461"
WORKER = {"id": "sw-17", "name": "Sofie Rådgiver"}
MATCHER = {"id": "mo-3", "name": "Match og Organisation"}
WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)

_random = random.SystemRandom()
_handed_out: set[str] = set()
_lock = threading.Lock()
# The event types of a referral that runs its whole course, in order.
LIFECYCLE = [
    f"referral.{step}" for step in ("referred", "matched", "price_agreed", "extended", "adjusted", "closed")
]


def cvr_checksum_ok(cvr: str) -> bool:
    """Modulus 11 with weights 2,7,6,5,4,3,2,1: the weighted sum is divisible by 11."""
    return (
        len(cvr) == 8
        and cvr.isdigit()
        and sum(int(d) * w for d, w in zip(cvr, WEIGHTS, strict=True)) % 11 == 0
    )


def new_cvr() -> str:
    """A valid CVR number (no leading zero) not handed out before in this process."""
    while True:
        prefix = str(_random.randrange(1_000_000, 10_000_000))
        check = -sum(int(d) * w for d, w in zip(prefix, WEIGHTS, strict=False)) % 11
        if check == 10:
            continue
        cvr = f"{prefix}{check}"
        assert cvr_checksum_ok(cvr)
        with _lock:
            if cvr not in _handed_out:
                _handed_out.add(cvr)
                return cvr


def invalid_cvr() -> str:
    """Eight digits that fail modulus 11."""
    cvr = new_cvr()
    return cvr[:7] + str((int(cvr[7]) + 1) % 10)


def _body(fields: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A request body: ``fields`` with ``overrides`` on top, deep-copied so callers may mutate it."""
    return copy.deepcopy({**fields, **overrides})


def supplier(cvr: str | None = None, **overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "name": "Familiehuset Fyn ApS",
            "cvr": new_cvr() if cvr is None else cvr,
            "contact": {
                "name": "Hanne Hansen",
                "email": "hanne@familiehuset.dk",
                "phone": "+45 66 13 13 72",
                "address": "Vestergade 1, 5000 Odense C",
            },
            "target_groups": ["0-17 years", "families"],
            "competencies": ["family therapy", "home support"],
            "education_levels": ["social worker", "psychologist"],
            "actor": MATCHER,
        },
        overrides,
    )


def rate(
    intervention: str = "family-treatment", unit: str = "hour", amount: str = "850.00"
) -> dict[str, Any]:
    return {"intervention": intervention, "unit": unit, "rate": amount}


def package(
    name: str = "Forløb 20 timer",
    intervention: str = "family-treatment",
    price: str = "15000.00",
    hours: str = "20",
) -> dict[str, Any]:
    return {"name": name, "intervention": intervention, "price": price, "hours": hours}


def price_list(**overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "municipality": ODENSE,
            "negotiated_on": "2025-12-01",
            "valid_from": "2026-01-01",
            "rates": [
                rate("family-treatment", "hour", "850.00"),
                rate("respite-stay", "day", "2400.00"),
                rate("home-support", "hour", "640.50"),
            ],
            "packages": [package()],
            "actor": MATCHER,
            "note": "Forhandlet mod sammenlignelige indsatser og egen drift",
        },
        overrides,
    )


def referral(**overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "municipality": ODENSE,
            "citizen_ref": "B-7f3a9c",
            "case_ref": "SAG-2026-0042",
            "legal_basis": "BL-32-1-5",
            "intervention": "family-treatment",
            "purpose": "Styrke forældrekompetencer og barnets trivsel i hjemmet",
            "requested_hours_per_week": "3",
            "requested_start": "2026-01-15",
            "expected_end": "2026-03-31",
            "referred_on": "2026-01-05",
            "actor": WORKER,
        },
        overrides,
    )


def match(
    supplier_id: str, candidates: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    return _body(
        {
            "supplier_id": supplier_id,
            "rationale": "Best professional fit for a family with young children",
            "criteria": ["experience with families with small children", "psychologist on staff"],
            "candidates": candidates or [],
            "matched_on": "2026-01-08",
            "actor": MATCHER,
        },
        overrides,
    )


def candidate(supplier_id: str, **overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "supplier_id": supplier_id,
            "hourly_rate": "910.00",
            "reason": "Higher price, no capacity",
        },
        overrides,
    )


def _agreement(pricing: dict[str, Any], start: str, end: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """A price agreement: its pricing, the period ``start``..``end``, agreed by the matcher."""
    return _body(
        {**pricing, "start": start, "end": end, "agreed_on": "2026-01-20", "actor": MATCHER}, overrides
    )


def hourly_agreement(
    hourly_rate: str = "850.00", hours_per_week: str = "3", **overrides: Any
) -> dict[str, Any]:
    pricing = {"hourly_rate": hourly_rate, "hours_per_week": hours_per_week}
    return _agreement(pricing, "2026-01-15", "2026-03-31", {"agreed_on": "2026-01-10", **overrides})


def daily_agreement(daily_rate: str = "2400.00", **overrides: Any) -> dict[str, Any]:
    return _agreement({"daily_rate": daily_rate}, "2026-02-01", "2026-02-14", overrides)


def package_agreement(
    name: str = "Forløb 20 timer", price: str = "15000.00", **overrides: Any
) -> dict[str, Any]:
    return _agreement({"package": {"name": name, "price": price}}, "2026-02-10", "2026-05-31", overrides)


def extension(new_end: str = "2026-04-30", **overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "new_end": new_end,
            "rationale": "Progress is good but not yet stable",
            "decided_on": "2026-03-20",
            "actor": WORKER,
        },
        overrides,
    )


def adjustment(effective_from: str = "2026-04-01", **overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "effective_from": effective_from,
            "hours_per_week": "2",
            "rationale": "Fewer hours as the family copes better",
            "decided_on": "2026-03-25",
            "actor": WORKER,
        },
        overrides,
    )


def closure(closed_on: str = "2026-04-15", reason: str = "goal_achieved", **overrides: Any) -> dict[str, Any]:
    return _body(
        {
            "closed_on": closed_on,
            "reason": reason,
            "rationale": "The goals of the plan are met",
            "actor": WORKER,
        },
        overrides,
    )


# -- helpers that drive the API ----------------------------------------------------------------


def created(response: Any, status: int = 201) -> dict[str, Any]:
    """Assert a successful write and return its result."""
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    assert set(result) == {"id", "version", "position"}
    return result


def register_supplier(client: TestClient, **overrides: Any) -> str:
    return str(created(client.post("/suppliers", json=supplier(**overrides)))["id"])


def supplier_with_prices(client: TestClient, **overrides: Any) -> str:
    supplier_id = register_supplier(client, **overrides)
    created(client.post(f"/suppliers/{supplier_id}/price-lists", json=price_list()), 200)
    return supplier_id


def referred(client: TestClient, **overrides: Any) -> str:
    return str(created(client.post("/referrals", json=referral(**overrides)))["id"])


def matched(client: TestClient, supplier_id: str | None = None, **overrides: Any) -> tuple[str, str]:
    """A matched referral and its supplier (with the default price list)."""
    supplier_id = supplier_id or supplier_with_prices(client)
    referral_id = referred(client, **overrides)
    created(client.post(f"/referrals/{referral_id}/match", json=match(supplier_id)), 200)
    return referral_id, supplier_id


def agreed(
    client: TestClient, agreement: dict[str, Any] | None = None, **overrides: Any
) -> tuple[str, str, int]:
    """A priced referral: ``(supplier_id, referral_id, position of the agreement)``."""
    referral_id, supplier_id = matched(client, **overrides)
    result = created(
        client.post(f"/referrals/{referral_id}/price-agreement", json=agreement or hourly_agreement()), 200
    )
    return supplier_id, referral_id, int(result["position"])


def active(client: TestClient, agreement: dict[str, Any] | None = None, **overrides: Any) -> str:
    """An active (priced) referral; hourly 850.00 × 3 h/week 2026-01-15..2026-03-31 by default."""
    return agreed(client, agreement, **overrides)[1]


def extended(client: TestClient, **overrides: Any) -> str:
    """An active hourly referral extended to 2026-04-30 (it counts in the spending reports)."""
    _, referral_id, _ = agreed(client, **overrides)
    created(client.post(f"/referrals/{referral_id}/extension", json=extension()), 200)
    return referral_id


def closed(client: TestClient) -> str:
    referral_id = active(client)
    created(client.post(f"/referrals/{referral_id}/closure", json=closure()), 200)
    return referral_id


def events_of(client: TestClient, kind: str, aggregate_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/{kind}/{aggregate_id}/events")
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def last_position(client: TestClient) -> int:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    return int(response.json()["storage"]["last_position"])


def assert_problem(
    response: Any, status: int, slug: str | None = None, mentions: str | None = None
) -> dict[str, Any]:
    """A problem+json answer with this status, whose ``type`` ends in ``slug``, mentioning ``mentions``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    if mentions is not None:
        assert mentions.lower() in body["detail"].lower(), body
    return body
