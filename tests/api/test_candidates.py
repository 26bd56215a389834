"""``GET /referrals/{id}/candidates``: the suppliers that can deliver a referral, ranked with reasons.

The expected figures are worked out here from the bodies the tests send and from the formula in
docs/decision-support.md, not read back from the read models. Dates are relative to today: load
counts the hours in force today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.service.caseledger import copenhagen_today
from tests.api import bodies
from tests.api.bodies import ODENSE, assert_problem, created
from tests.storage import rebuild_read_models
from tests.tokens import bearer, new_token

TODAY = copenhagen_today()
WANTED: dict[str, Any] = {
    "target_group": "families",
    "competency": ["family therapy", "Trauma"],
    "education_level": "psychologist",
}
REQUESTED_HOURS = Decimal("3")


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def candidates(
    client: TestClient, referral_id: str, headers: dict[str, str] | None = None, **params: Any
) -> Any:
    params.setdefault("min_position", bodies.last_position(client))
    response = client.get(f"/referrals/{referral_id}/candidates", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def supplier(
    client: TestClient, name: str, rate: str, labels: dict[str, list[str]], capacity: str | None
) -> str:
    supplier_id = bodies.register_supplier(client, name=name, **labels)
    price_list = bodies.price_list(
        rates=[bodies.rate("family-treatment", "hour", rate)],
        packages=[],
        negotiated_on=day(-300),
        valid_from=day(-290),
    )
    created(client.post(f"/suppliers/{supplier_id}/price-lists", json=price_list), 200)
    if capacity is not None:
        created(
            client.post(f"/suppliers/{supplier_id}/details", json={"capacity_hours_per_week": capacity}), 200
        )
    return supplier_id


def referral_with(
    client: TestClient, supplier_id: str, start: int, end: int, rate: str, hours: str = "3"
) -> str:
    """A referral matched to the supplier and priced at its list rate from ``start`` to ``end`` (days from today)."""
    referral_id = bodies.referred(
        client, requested_start=day(start), expected_end=day(end), referred_on=day(start - 20)
    )
    created(
        client.post(
            f"/referrals/{referral_id}/match", json=bodies.match(supplier_id, matched_on=day(start - 15))
        ),
        200,
    )
    agreement = bodies.hourly_agreement(
        rate, hours, start=day(start), end=day(end), agreed_on=day(start - 10)
    )
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=agreement), 200)
    return referral_id


def close(client: TestClient, referral_id: str, closed_on: int, reason: str) -> None:
    created(
        client.post(f"/referrals/{referral_id}/closure", json=bodies.closure(day(closed_on), reason)), 200
    )


@dataclass
class Expected:
    """One supplier as the test sees it: what it offers and what happened to its referrals."""

    supplier_id: str
    name: str
    rate: Decimal
    labels: dict[str, list[str]]
    capacity: Decimal | None
    active_hours: Decimal = Decimal(0)
    active: int = 0
    outcomes: list[str] = field(default_factory=list)
    """How each referral that ended with it ended: a close reason, or ``rematched_away``."""
    days: list[int] = field(default_factory=list)


@dataclass
class Scenario:
    referral_id: str
    suppliers: dict[str, Expected]


def offer(
    client: TestClient, name: str, rate: str, labels: dict[str, list[str]], capacity: str | None
) -> Expected:
    """A supplier registered with these labels, a list in Odense at ``rate`` and ``capacity``."""
    supplier_id = supplier(client, name, rate, labels, capacity)
    return Expected(supplier_id, name, Decimal(rate), labels, None if capacity is None else Decimal(capacity))


def scenario(client: TestClient) -> Scenario:
    """Three suppliers in Odense: Alfa fits, is cheapest and has achieved its goals; Beta fits
    little, is dearest, has terminated a referral and is over its capacity; Gamma fits nothing and
    has lost a referral to a rematch."""
    alfa_labels = {
        "target_groups": ["Families"],
        "competencies": ["family therapy", "trauma"],
        "education_levels": ["psychologist"],
    }
    beta_labels = {
        "target_groups": ["families"],
        "competencies": ["home support"],
        "education_levels": ["pedagogue"],
    }
    gamma_labels = {"target_groups": ["adults"], "competencies": ["addiction"], "education_levels": ["nurse"]}
    alfa = offer(client, "Alfa Familie ApS", "800.00", alfa_labels, "40")
    beta = offer(client, "Beta Omsorg ApS", "900.00", beta_labels, "5")
    gamma = offer(client, "Gamma Hjælp ApS", "850.00", gamma_labels, None)

    # Alfa: two measures that reached their goal, one closed early and one after its end.
    close(client, referral_with(client, alfa.supplier_id, -100, -20, "800.00"), -40, "goal_achieved")
    close(client, referral_with(client, alfa.supplier_id, -200, -150, "800.00"), -100, "goal_achieved")
    alfa.outcomes += ["goal_achieved", "goal_achieved"]
    alfa.days += [(-40) - (-100) + 1, (-150) - (-200) + 1]
    # Beta: one terminated by the supplier, and one running now at 3 hours a week.
    close(client, referral_with(client, beta.supplier_id, -60, 30, "900.00"), -30, "supplier_terminated")
    beta.outcomes.append("supplier_terminated")
    beta.days.append((-30) - (-60) + 1)
    referral_with(client, beta.supplier_id, -10, 30, "900.00", hours="3")
    beta.active, beta.active_hours = 1, Decimal("3")
    # Gamma: matched, then the referral went to Alfa instead (not yet priced: no load for Alfa).
    moved = bodies.referred(client, requested_start=day(5), expected_end=day(60), referred_on=day(-5))
    created(
        client.post(f"/referrals/{moved}/match", json=bodies.match(gamma.supplier_id, matched_on=day(-4))),
        200,
    )
    created(
        client.post(f"/referrals/{moved}/match", json=bodies.match(alfa.supplier_id, matched_on=day(-3))), 200
    )
    gamma.outcomes.append("rematched_away")

    referral_id = bodies.referred(
        client,
        requested_start=day(7),
        expected_end=day(90),
        referred_on=day(0),
        requested_hours_per_week=str(REQUESTED_HOURS),
    )
    return Scenario(referral_id, {s.supplier_id: s for s in (alfa, beta, gamma)})


# -- the documented formula, worked out independently -----------------------------------------


def half_up(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def wanted_labels() -> dict[str, list[str]]:
    return {
        "target_groups": [WANTED["target_group"]],
        "competencies": list(WANTED["competency"]),
        "education_levels": [WANTED["education_level"]],
    }


def expected_fit(s: Expected) -> dict[str, dict[str, list[str]]]:
    fit = {}
    for kind, asked in wanted_labels().items():
        offered = {label.lower() for label in s.labels[kind]}
        fit[kind] = {
            "matched": [label for label in asked if label.lower() in offered],
            "missing": [label for label in asked if label.lower() not in offered],
        }
    return fit


def shares(s: Expected) -> dict[str, Decimal]:
    ended = len(s.outcomes)
    return {
        "goal": Decimal(s.outcomes.count("goal_achieved")) / ended if ended else Decimal(0),
        "terminated": Decimal(s.outcomes.count("supplier_terminated")) / ended if ended else Decimal(0),
        "rematched": Decimal(s.outcomes.count("rematched_away") + s.outcomes.count("rematched")) / ended
        if ended
        else Decimal(0),
    }


def expected_score(s: Expected, all_rates: list[Decimal]) -> Decimal:
    fit = expected_fit(s)
    asked = sum(len(v["matched"]) + len(v["missing"]) for v in fit.values())
    fit_points = Decimal(40) * sum(len(v["matched"]) for v in fit.values()) / asked
    difference = (s.rate - median(all_rates)) / median(all_rates) * 100
    price_points = min(Decimal(25), max(Decimal(0), 25 * (Decimal("0.5") - difference / 50)))
    if s.capacity is None:
        capacity_points = Decimal("7.5")
    else:
        capacity_points = Decimal(15) if s.active_hours + REQUESTED_HOURS <= s.capacity else Decimal(0)
    if s.outcomes:
        record = shares(s)
        balance = record["goal"] - record["terminated"] - record["rematched"]
        record_points = min(Decimal(20), max(Decimal(0), 10 + 10 * balance))
    else:
        record_points = Decimal(10)
    return fit_points + price_points + capacity_points + record_points


# -- tests ----------------------------------------------------------------------------------------


def test_candidates_are_ranked_by_the_documented_score_with_their_figures_and_reasons(
    client: TestClient,
) -> None:
    world = scenario(client)
    rates = [s.rate for s in world.suppliers.values()]

    answer = candidates(client, world.referral_id, **WANTED)

    scores = {sid: expected_score(s, rates) for sid, s in world.suppliers.items()}
    order = sorted(scores, key=lambda sid: -scores[sid])
    assert [c["supplier_id"] for c in answer] == order
    assert answer[0]["name"] == "Alfa Familie ApS"
    for candidate in answer:
        s = world.suppliers[candidate["supplier_id"]]
        assert candidate["score"] == half_up(scores[s.supplier_id], "0.1")
        assert candidate["fit"] == expected_fit(s)
        difference = (s.rate - median(rates)) / median(rates) * 100
        assert candidate["price"] == {
            "unit": "hour",
            "rate": str(s.rate),
            "package": None,
            "list_negotiated_on": day(-300),
            "vs_median_pct": half_up(difference, "0.1"),
        }
        assert candidate["load"] == {
            "active_referrals": s.active,
            "active_hours_per_week": f"{s.active_hours:.2f}",
            "capacity_hours_per_week": None if s.capacity is None else f"{s.capacity:.2f}",
        }
        record = shares(s)
        lower_median = sorted(s.days)[(len(s.days) - 1) // 2] if s.days else None
        assert candidate["record"] == {
            "closed": len(s.outcomes),
            "goal_achieved_share": half_up(record["goal"], "0.01"),
            "rematched_share": half_up(record["rematched"], "0.01"),
            "supplier_terminated_share": half_up(record["terminated"], "0.01"),
            "median_days": lower_median,
        }
        assert candidate["reasons"][0].startswith(f"Score {candidate['score']} of 100")


def test_the_reasons_say_why_the_winner_wins_and_why_the_others_rank_lower(client: TestClient) -> None:
    world = scenario(client)

    first, second, third = candidates(client, world.referral_id, **WANTED)

    text = " ".join(first["reasons"])
    assert "offers 4 of the 4 asked for" in text
    assert "below the median" in text
    assert "2 ended referrals in this municipality, 100 % with the goal achieved" in text
    beta = next(c for c in (second, third) if c["name"] == "Beta Omsorg ApS")
    beta_text = " ".join(beta["reasons"])
    assert "Capacity exceeded: 3.00 hours a week in 1 active referral plus the 3.00 requested" in beta_text
    assert "5.00 hours a week it states" in beta_text
    assert "lacks competency family therapy, competency Trauma, education level psychologist" in beta_text
    assert "100 % terminated by the supplier" in beta_text
    gamma = next(c for c in (second, third) if c["name"] == "Gamma Hjælp ApS")
    assert "100 % rematched" in " ".join(gamma["reasons"])
    assert "Capacity: none stated" in " ".join(gamma["reasons"])
    assert second["reasons"][-1].startswith(f"Ranks below {first['name']} ({first['score']})")
    assert third["reasons"][-1].startswith(f"Ranks below {second['name']} ({second['score']})")


def test_without_wishes_fit_sets_nobody_apart_and_limit_cuts_the_list(client: TestClient) -> None:
    world = scenario(client)

    answer = candidates(client, world.referral_id)
    top = candidates(client, world.referral_id, limit=1)

    assert all(c["reasons"][1].startswith("Fit: nothing was asked for") for c in answer)
    assert all(c["fit"]["competencies"] == {"matched": [], "missing": []} for c in answer)
    assert top == answer[:1]
    assert len(answer) == len(world.suppliers)


def test_only_suppliers_with_a_list_in_force_for_the_intervention_in_the_municipality_are_candidates(
    client: TestClient,
) -> None:
    listed = bodies.supplier_with_prices(client)  # family-treatment in Odense from 2026-01-01, and a package
    elsewhere = bodies.register_supplier(client)
    created(
        client.post(f"/suppliers/{elsewhere}/price-lists", json=bodies.price_list(municipality="101")), 200
    )
    expired = bodies.register_supplier(client)
    ended_list = bodies.price_list(valid_from=day(-400), valid_to=day(-1), negotiated_on=day(-410))
    created(client.post(f"/suppliers/{expired}/price-lists", json=ended_list), 200)
    other_intervention = bodies.register_supplier(client)
    home_support = bodies.price_list(rates=[bodies.rate("home-support", "hour", "600.00")], packages=[])
    created(client.post(f"/suppliers/{other_intervention}/price-lists", json=home_support), 200)
    referral_id = bodies.referred(client, requested_start=day(7), expected_end=day(90), referred_on=day(0))

    [only] = candidates(client, referral_id)

    assert only["supplier_id"] == listed
    assert only["price"]["package"] == {"name": "Forløb 20 timer", "price": "15000.00", "hours": "20.00"}
    assert only["price"]["vs_median_pct"] == "0.0"  # the only rate is the median


def test_capacity_is_a_supplier_detail_that_can_be_removed_again(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = bodies.referred(client, requested_start=day(7), expected_end=day(90), referred_on=day(0))
    created(client.post(f"/suppliers/{supplier_id}/details", json={"capacity_hours_per_week": "250"}), 200)
    [stated] = candidates(client, referral_id)
    created(client.post(f"/suppliers/{supplier_id}/details", json={"capacity_hours_per_week": None}), 200)
    [removed] = candidates(client, referral_id)

    assert stated["load"]["capacity_hours_per_week"] == "250.00"
    assert "within the 250.00 hours a week it states" in " ".join(stated["reasons"])
    assert removed["load"]["capacity_hours_per_week"] is None
    events = client.get(f"/suppliers/{supplier_id}/events").json()
    assert [e["data"].get("changes") for e in events if e["type"] == "supplier.details_updated"] == [
        {"capacity_hours_per_week": "250.00"},
        {"capacity_hours_per_week": None},
    ]


@pytest.mark.parametrize("capacity", ["0", "-3", "12.345", "10001", "many"])
def test_a_bad_capacity_is_refused_and_nothing_is_written(client: TestClient, capacity: str) -> None:
    supplier_id = bodies.register_supplier(client)
    before = bodies.last_position(client)

    response = client.post(f"/suppliers/{supplier_id}/details", json={"capacity_hours_per_week": capacity})

    assert_problem(response, 422)
    assert bodies.last_position(client) == before


def test_a_rebuild_of_the_read_models_gives_the_same_candidates(client: TestClient, db_url: str) -> None:
    world = scenario(client)
    before = candidates(client, world.referral_id, **WANTED)

    assert rebuild_read_models(db_url) == bodies.last_position(client)

    assert candidates(client, world.referral_id, **WANTED) == before


def test_roles_and_municipalities(client: TestClient) -> None:
    supplier_id = bodies.supplier_with_prices(client)
    referral_id = bodies.referred(client, requested_start=day(7), expected_end=day(90), referred_on=day(0))
    path = f"/referrals/{referral_id}/candidates"

    for role in ("matcher", "caseworker", "admin"):
        own = bearer(new_token(client, role, ODENSE))
        assert [c["supplier_id"] for c in candidates(client, referral_id, own)] == [supplier_id]
    for role in ("reporter", "auditor", "case_system"):
        assert_problem(
            client.get(path, headers=bearer(new_token(client, role, ODENSE))), 403, "role-not-allowed"
        )
    other = bearer(new_token(client, "matcher", "101"))
    assert_problem(client.get(path, headers=other), 404, "referral-not-found")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(client.get(f"/referrals/{unknown}/candidates"), 404)
    assert_problem(client.get(f"/referrals/{unknown}/candidates", headers=other), 404)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"target_group": ""},
        {"education_level": "x\x01y"},
        {"competency": ["c"] * 21},
    ],
)
def test_bad_query_values_are_refused_as_problems(client: TestClient, params: dict[str, Any]) -> None:
    referral_id = bodies.referred(client)

    assert_problem(client.get(f"/referrals/{referral_id}/candidates", params=params), 422)


def test_a_referral_id_that_is_no_uuid_is_refused(client: TestClient) -> None:
    assert_problem(client.get("/referrals/not-a-uuid/candidates"), 422)
