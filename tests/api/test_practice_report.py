"""The practice report: counts, lead times, shares and close reasons of the referrals referred in a
period, in one group or per month, intervention, supplier or legal basis.

The scenario's figures are worked out by hand below from the dates and rates the test sends (lead
times in calendar days; percentiles by nearest rank: the value at rank ⌈p/100 × n⌉ of the sorted)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.bodies import assert_problem, created
from tests.tokens import bearer, new_token

ABOVE = "The only supplier with a psychologist free this quarter"
PERIOD = {"from": "2026-01", "to": "2026-03"}


@dataclass(frozen=True)
class Scenario:
    a: str
    b: str
    referrals: dict[str, str]


def post(client: TestClient, referral_id: str, path: str, body: dict[str, Any]) -> None:
    created(client.post(f"/referrals/{referral_id}/{path}", json=body), 200)


def scenario(client: TestClient) -> Scenario:
    """Six referrals in Odense, referred in January and February 2026, and one in December 2025:

    | | referred | matched (supplier) | agreed | start | afterwards |
    |---|---|---|---|---|---|
    | r1 family-treatment | 01-05 | 01-08 (A) | 01-10 at the list rate | 01-15 | extended 03-31 → 04-30, closed goal_achieved |
    | r2 family-treatment | 01-12 | 01-20 (B), again 01-26 (A) | 02-01 at 900.00 > 850.00 | 02-02 | hours adjusted, closed need_changed |
    | r3 respite-stay | 01-20 | 01-21 (B) | | | |
    | r4 family-treatment | 01-28 | | | | |
    | r5 family-treatment | 02-03 | 02-10 (B) | 02-12 at the list rate | 03-01 | rate adjusted to 935.50 > 850.00, extended 03-31 → 05-31 |
    | r6 respite-stay | 02-05 | 02-06 (A) | 02-06 at the list rate | 02-01 | closed family_declined |
    | r0 family-treatment | 2025-12-30 | 2026-01-02 (A) | | | |
    """
    a, b = bodies.supplier_with_prices(client), bodies.supplier_with_prices(client)
    respite = {"intervention": "respite-stay", "legal_basis": "BL-32-1-7"}

    def referral(referred_on: str, **overrides: Any) -> str:
        return bodies.referred(client, referred_on=referred_on, **overrides)

    def match(referral_id: str, supplier_id: str, matched_on: str) -> None:
        post(client, referral_id, "match", bodies.match(supplier_id, matched_on=matched_on))

    r1 = referral("2026-01-05")
    match(r1, a, "2026-01-08")
    post(client, r1, "price-agreement", bodies.hourly_agreement(agreed_on="2026-01-10"))
    post(client, r1, "extension", bodies.extension("2026-04-30", decided_on="2026-03-20"))
    post(client, r1, "closure", bodies.closure("2026-04-15", "goal_achieved"))

    r2 = referral("2026-01-12")
    match(r2, b, "2026-01-20")
    match(r2, a, "2026-01-26")
    agreement = bodies.hourly_agreement("900.00", start="2026-02-02", agreed_on="2026-02-01", rationale=ABOVE)
    post(client, r2, "price-agreement", agreement)
    post(
        client, r2, "adjustment", bodies.adjustment("2026-03-01", hours_per_week="2", decided_on="2026-02-25")
    )
    post(client, r2, "closure", bodies.closure("2026-03-20", "need_changed"))

    r3 = referral("2026-01-20", **respite)
    match(r3, b, "2026-01-21")

    r4 = referral("2026-01-28")

    r5 = referral("2026-02-03")
    match(r5, b, "2026-02-10")
    post(client, r5, "price-agreement", bodies.hourly_agreement(start="2026-03-01", agreed_on="2026-02-12"))
    above = bodies.adjustment("2026-03-10", hourly_rate="935.50", decided_on="2026-03-05")
    post(client, r5, "adjustment", above)
    post(client, r5, "extension", bodies.extension("2026-05-31", decided_on="2026-03-25"))

    r6 = referral("2026-02-05", **respite)
    match(r6, a, "2026-02-06")
    post(client, r6, "price-agreement", bodies.daily_agreement(agreed_on="2026-02-06"))
    post(client, r6, "closure", bodies.closure("2026-02-10", "family_declined"))

    r0 = referral("2025-12-30")
    match(r0, a, "2026-01-02")
    return Scenario(a, b, {"r0": r0, "r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "r6": r6})


def practice(
    client: TestClient,
    headers: dict[str, str] | None = None,
    period: tuple[str, str] | None = None,
    **params: Any,
) -> Any:
    """The report for ``period`` (first and last month; default ``PERIOD``) once the writes are in."""
    params.setdefault("min_position", bodies.last_position(client))
    months = {"from": period[0], "to": period[1]} if period else PERIOD
    response = client.get("/reports/practice", params={**months, **params}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def lead(median: int | None, p90: int | None) -> dict[str, int | None]:
    return {"median": median, "p90": p90}


def figures(
    counts: tuple[int, int, int, int],
    lead_times: tuple[tuple[int | None, int | None], ...],
    shares: tuple[str | None, str | None, str | None, str | None, str | None],
    close_reasons: dict[str, int],
) -> dict[str, Any]:
    referred, matched, agreed, closed = counts
    to_matched, to_agreed, to_start = (lead(*pair) for pair in lead_times)
    rematched, extended, mean_extension, adjustments, above = shares
    return {
        "referred": referred,
        "matched": matched,
        "agreed": agreed,
        "closed": closed,
        "referred_to_matched": to_matched,
        "matched_to_agreed": to_agreed,
        "agreed_to_start": to_start,
        "rematched_share": rematched,
        "extended_share": extended,
        "mean_extension_days": mean_extension,
        "adjustments_per_referral": adjustments,
        "above_list_share": above,
        "close_reasons": close_reasons,
    }


NOTHING = figures((0, 0, 0, 0), ((None, None),) * 3, (None,) * 5, {})
FAMILY = figures(
    (4, 3, 3, 2),  # r1, r2, r4, r5
    ((7, 8), (2, 12), (5, 17)),  # [3, 7, 8], [2, 2, 12], [1, 5, 17]
    ("0.333", "0.667", "45.5", "0.67", "0.667"),  # r2 of 3; r1, r5 of 3; (30 + 61) / 2; 2 of 3; r2, r5
    {"goal_achieved": 1, "need_changed": 1},
)
RESPITE = figures(
    (2, 2, 1, 1),  # r3, r6
    ((1, 1), (0, 0), (-5, -5)),  # the start before the agreement: negative
    ("0.000", "0.000", None, "0.00", "0.000"),
    {"family_declined": 1},
)


def test_one_group_for_the_period_holds_the_figures_the_events_imply(client: TestClient) -> None:
    scenario(client)

    report = practice(client)

    assert (report["from"], report["to"], report["by"]) == ("2026-01", "2026-03", None)
    assert report["groups"] == [
        figures(
            (6, 5, 4, 3),  # r1–r6; r4 unmatched; r3 unpriced; r1, r2, r6 closed
            # referred → matched [1, 1, 3, 7, 8] (r2: its first match), matched → agreed [0, 2, 2, 12]
            # (r2: from its first match), agreed → start [-5, 1, 5, 17]
            ((3, 8), (2, 12), (1, 17)),
            # r2 of 5 matched; r1, r5 of 4 agreed; (30 + 61) / 2 days; 2 adjustments of 4; r2, r5 of 4
            ("0.200", "0.500", "45.5", "0.50", "0.500"),
            {"family_declined": 1, "goal_achieved": 1, "need_changed": 1},
        )
    ]


def test_by_month_gives_every_month_of_the_period_by_referral_month(client: TestClient) -> None:
    scenario(client)

    groups = practice(client, by="month")["groups"]

    assert groups == [
        {
            "key": "2026-01",
            **figures(
                (4, 3, 2, 2),  # r1–r4
                ((3, 8), (2, 12), (1, 5)),  # [1, 3, 8], [2, 12], [1, 5]
                ("0.333", "0.500", "30.0", "0.50", "0.500"),
                {"goal_achieved": 1, "need_changed": 1},
            ),
        },
        {
            "key": "2026-02",
            **figures(
                (2, 2, 2, 1),  # r5, r6
                ((1, 7), (0, 2), (-5, 17)),
                ("0.000", "0.500", "61.0", "0.50", "0.500"),
                {"family_declined": 1},
            ),
        },
        {"key": "2026-03", **NOTHING},
    ]
    december = practice(client, by="month", period=("2025-12", "2025-12"))["groups"]
    assert december == [
        {
            "key": "2025-12",
            **figures((1, 1, 0, 0), ((3, 3), (None, None), (None, None)), (("0.000",) + (None,) * 4), {}),
        }
    ]
    february = {key: value for key, value in groups[1].items() if key != "key"}
    assert practice(client, period=("2026-02", "2026-02"))["groups"] == [february]
    assert practice(client, period=("2026-03", "2026-04"))["groups"] == [NOTHING]


def test_by_intervention_legal_basis_and_supplier(client: TestClient) -> None:
    s = scenario(client)

    by_intervention = practice(client, by="intervention")["groups"]
    by_basis = practice(client, by="legal_basis")["groups"]
    by_supplier = practice(client, by="supplier")["groups"]

    def without_names(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert all(group["name"] for group in groups if group["key"])
        return [{key: value for key, value in group.items() if key != "name"} for group in groups]

    assert without_names(by_intervention) == [
        {"key": "family-treatment", **FAMILY},
        {"key": "respite-stay", **RESPITE},
    ]
    assert without_names(by_basis) == [{"key": "BL-32-1-5", **FAMILY}, {"key": "BL-32-1-7", **RESPITE}]
    a = figures(
        (3, 3, 3, 3),  # r1, r2 (matched to A the second time), r6
        ((3, 8), (2, 12), (1, 5)),  # [1, 3, 8], [0, 2, 12], [-5, 1, 5]
        ("0.333", "0.333", "30.0", "0.33", "0.333"),
        {"family_declined": 1, "goal_achieved": 1, "need_changed": 1},
    )
    b = figures(
        (2, 2, 1, 0),  # r3, r5
        ((1, 7), (2, 2), (17, 17)),
        ("0.000", "1.000", "61.0", "1.00", "1.000"),
        {},
    )
    unmatched = figures((1, 0, 0, 0), ((None, None),) * 3, (None,) * 5, {})  # r4
    first, second = sorted([(s.a, a), (s.b, b)])  # by supplier id, the unmatched last
    name = bodies.supplier()["name"]
    assert [(group["key"], group["name"]) for group in by_supplier] == [
        (first[0], name),
        (second[0], name),
        (None, None),
    ]
    expected = [first, second, (None, unmatched)]
    assert without_names(by_supplier) == [{"key": key, **values} for key, values in expected]


def test_the_above_list_share_counts_the_referrals_the_price_exceptions_list(client: TestClient) -> None:
    s = scenario(client)

    share = practice(client)["groups"][0]["above_list_share"]
    listed = client.get("/reports/price-exceptions", params={"min_position": bodies.last_position(client)})

    assert {item["referral_id"] for item in listed.json()["items"]} == {s.referrals["r2"], s.referrals["r5"]}
    assert share == "0.500"  # those two of the four agreed


def test_a_token_sees_only_its_municipality(client: TestClient) -> None:
    scenario(client)
    bodies.referred(client, municipality="101", referred_on="2026-01-07")
    odense = bearer(new_token(client, "reporter", bodies.ODENSE))
    copenhagen = bearer(new_token(client, "auditor", "101"))

    assert practice(client, odense)["groups"][0]["referred"] == 6
    assert practice(client, copenhagen)["groups"] == [
        {**NOTHING, "referred": 1}  # only its own referral, never matched
    ]
    assert practice(client, copenhagen, by="supplier")["groups"] == [
        {"key": None, "name": None, **NOTHING, "referred": 1}
    ]
    assert practice(client)["groups"][0]["referred"] == 7  # the admin token: all municipalities
    assert practice(client, municipality="461")["groups"][0]["referred"] == 6
    assert_problem(
        client.get("/reports/practice", params={**PERIOD, "municipality": "461"}, headers=copenhagen), 403
    )
    case_system = bearer(new_token(client, "case_system", bodies.ODENSE))
    assert_problem(client.get("/reports/practice", params=PERIOD, headers=case_system), 403)


def test_a_bad_period_or_grouping_is_a_problem(client: TestClient) -> None:
    for params in (
        {"to": "2026-03"},
        {"from": "2026-01"},
        {"from": "2026-13", "to": "2026-14"},
        {"from": "2026-1", "to": "2026-03"},
        {"from": "0000-01", "to": "0000-12"},  # a date has no year 0 (found by schemathesis)
        {**PERIOD, "by": "week"},
        {**PERIOD, "by": ""},
    ):
        assert_problem(client.get("/reports/practice", params=params), 422)
    assert_problem(
        client.get("/reports/practice", params={"from": "2026-04", "to": "2026-03"}), 422, "period-reversed"
    )
    too_long = {"from": "2016-01", "to": "2026-01"}  # 121 months
    assert_problem(client.get("/reports/practice", params=too_long), 422, "period-too-long")
    assert client.get("/reports/practice", params={"from": "2016-02", "to": "2026-01"}).status_code == 200


def test_the_weekly_intake_counts_the_referrals_per_iso_week_of_the_period(client: TestClient) -> None:
    """2026-01-01 is a Thursday: ISO week 2026-W01 runs from Monday 2025-12-29, so r0 (2025-12-30)
    is in it, but in December's report, not January's; 2026-03-31 is in 2026-W14."""
    scenario(client)

    quarter = practice(client, by="month")["weekly_intake"]
    december = practice(client, period=("2025-12", "2025-12"))["weekly_intake"]

    referred = {"2026-W02": 1, "2026-W03": 1, "2026-W04": 1, "2026-W05": 1, "2026-W06": 2}  # r1..r6
    assert quarter == {f"2026-W{week:02d}": referred.get(f"2026-W{week:02d}", 0) for week in range(1, 15)}
    assert december == {"2025-W49": 0, "2025-W50": 0, "2025-W51": 0, "2025-W52": 0, "2026-W01": 1}


def test_the_first_and_last_representable_months_have_their_weeks(client: TestClient) -> None:
    """0001-01-01 is a Monday; 9999-12-31 a Friday, with no day after it to count up to."""
    first = practice(client, period=("0001-01", "0001-01"))["weekly_intake"]
    last = practice(client, period=("9999-12", "9999-12"))["weekly_intake"]

    assert list(first) == ["0001-W01", "0001-W02", "0001-W03", "0001-W04", "0001-W05"]
    assert list(last) == ["9999-W48", "9999-W49", "9999-W50", "9999-W51", "9999-W52"]


def test_the_report_as_csv(client: TestClient) -> None:
    scenario(client)

    response = client.get(
        "/reports/practice",
        params={**PERIOD, "by": "month", "min_position": bodies.last_position(client)},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [
        (r["key"], r["referred"], r["referred_to_matched_median"], r["agreed_to_start_p90"]) for r in rows
    ] == [
        ("2026-01", "4", "3", "5"),
        ("2026-02", "2", "1", "17"),
        ("2026-03", "0", "", ""),
    ]
    assert rows[1]["close_reasons"] == '{"family_declined":1}'


def test_reporters_auditors_and_admins_read_it_for_their_own_municipality_only(client: TestClient) -> None:
    bodies.referred(client)
    projected = {**PERIOD, "min_position": bodies.last_position(client)}  # the referral folded in
    readers = {"reporter", "auditor", "admin"}
    for role in ("case_system", "caseworker", "matcher", "auditor", "reporter", "admin"):
        token = bearer(new_token(client, role, bodies.ODENSE))
        own = client.get("/reports/practice", params=projected, headers=token)
        other = client.get("/reports/practice", params={**PERIOD, "municipality": "101"}, headers=token)
        if role in readers:
            assert own.status_code == 200, (role, own.text)
            assert own.json()["groups"][0]["referred"] == 1
            assert_problem(other, 403)
        else:
            assert_problem(own, 403)
            assert_problem(other, 403)
    del client.headers["Authorization"]
    assert_problem(client.get("/reports/practice", params=PERIOD), 401)
