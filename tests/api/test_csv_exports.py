"""CSV answers carry no live formula: a cell that a spreadsheet would run (``=``, ``+``, ``-``, ``@``, tab,
carriage return first) arrives prefixed with ``'``, in every CSV answer; numbers arrive as they are."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.csv_export import safe_cell
from tests.api import bodies
from tests.api.bodies import created
from tests.api.dashboard.test_pages import browse

FORMULA = '=HYPERLINK("http://x","y")'
CSV = {"Accept": "text/csv"}


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (FORMULA, "'" + FORMULA),
        ("+45 66 13 13 72", "'+45 66 13 13 72"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("-.5", "-.5"),
        ("12-50", "12-50"),
        ("a=b", "a=b"),
        (Decimal("-12.50"), Decimal("-12.50")),
        (-3, -3),
    ],
)
def test_a_cell_that_would_start_a_formula_is_prefixed_and_a_number_is_not(value: Any, cell: Any) -> None:
    assert safe_cell(value) == cell


def test_a_supplier_named_as_a_formula_and_formula_rationales_are_text_in_every_csv_answer(
    client: TestClient,
) -> None:
    supplier_id = bodies.supplier_with_prices(client, name=FORMULA)
    referral_id = bodies.referred(client, purpose="@SUM(A1:A9) timer")
    created(
        client.post(
            f"/referrals/{referral_id}/match", json=bodies.match(supplier_id, rationale="+1 ved behov")
        ),
        200,
    )
    created(client.post(f"/referrals/{referral_id}/price-agreement", json=bodies.hourly_agreement()), 200)
    adjusted = bodies.adjustment(
        effective_from="2026-03-01", hours_per_week="1", decided_on="2026-02-20", rationale="-12.50"
    )
    position = created(client.post(f"/referrals/{referral_id}/adjustment", json=adjusted), 200)["position"]
    fresh = {"min_position": position}

    overview = _rows(client.get("/reports/suppliers", params=fresh, headers=CSV))
    one = _rows(client.get(f"/reports/suppliers/{supplier_id}", params=fresh, headers=CSV))
    spending = _rows(client.get("/reports/spending", params={**fresh, "by": "supplier"}, headers=CSV))
    trail = _rows(client.get(f"/audit/referrals/{referral_id}", headers=CSV))
    decisions = _rows(client.get("/audit/decisions", params={"referral_id": referral_id}, headers=CSV))
    reporter, _ = browse(client, "reporter", "461")
    forbrug = _rows(
        reporter.get("/dashboard/forbrug.csv", params={"from": "2026-01", "to": "2026-12", "by": "supplier"})
    )
    report = client.get("/reports/spending", params={**fresh, "by": "supplier"}).json()
    totals = client.get(f"/reports/suppliers/{supplier_id}", params=fresh).json()

    assert [r["name"] for r in overview if r["supplier_id"] == supplier_id] == ["'" + FORMULA]
    assert [r["name"] for r in one] == ["'" + FORMULA]
    assert one[0]["committed_total"] == totals["committed_total"] == "20157.15"
    assert {r["label"] for r in forbrug} == {"'" + FORMULA}
    amounts = [r["amount"] for r in report["rows"]]
    assert [r["amount"] for r in forbrug] == [r["amount"] for r in spending] == amounts
    assert [r["rationale"] for r in trail] == ["'@SUM(A1:A9) timer", "'+1 ved behov", "", "-12.50"]
    assert {r["rationale"] for r in decisions} == {"'@SUM(A1:A9) timer", "'+1 ved behov", "", "-12.50"}
