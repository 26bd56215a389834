"""The "Kendt pr." day on a Forbrug cell's page and on Priser's price exceptions, over HTTP on SQLite
and PostgreSQL: a change recorded after the day — even one back-dated to take effect before it — is
not shown, as the endpoints' ``known_at`` leaves it out; without the day it is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import eventsourcing.domain
import pytest
from fastapi.testclient import TestClient

from api.dashboard.known import end_of
from application.service.caseledger import copenhagen_today
from tests.api import bodies
from tests.api.dashboard.test_forbrug_celle import cell_page
from tests.api.dashboard.test_pages import browse

MONTH = "2026-02"
ABOVE = "Only supplier free this month"


def recorded_days_ago(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    """Events created from now on are recorded ``days`` days ago (their timestamp)."""
    real = eventsourcing.domain.datetime_now_with_tzinfo
    monkeypatch.setattr(
        eventsourcing.domain, "datetime_now_with_tzinfo", lambda: real() - timedelta(days=days)
    )


@dataclass(frozen=True)
class BackDated:
    """A referral priced three days ago (hourly 850.00, 3 h/week from 15.01.2026) and adjusted today
    to 935.50 (above its list rate) with effect from 01.02.2026, decided 25.01.2026: back-dated;
    an admin's dashboard, and the "Kendt pr." day two days ago, between the two."""

    supplier_id: str
    referral_id: str
    browser: TestClient
    day: date


@pytest.fixture
def back_dated(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> BackDated:
    with monkeypatch.context() as patched:
        recorded_days_ago(patched, 3)
        supplier_id, referral_id, _ = bodies.agreed(client)
    body = bodies.adjustment("2026-02-01", hourly_rate="935.50", decided_on="2026-01-25", rationale=ABOVE)
    result = bodies.created(client.post(f"/referrals/{referral_id}/adjustment", json=body), 200)
    client.get("/reports/spending", params={"min_position": result["position"]})
    browser, _ = browse(client, "admin", "*")
    return BackDated(supplier_id, referral_id, browser, copenhagen_today() - timedelta(days=2))


def test_a_cells_page_known_on_a_day_leaves_out_a_later_back_dated_change(
    client: TestClient, back_dated: BackDated
) -> None:
    supplier_id, referral_id, browser, day = (
        back_dated.supplier_id,
        back_dated.referral_id,
        back_dated.browser,
        back_dated.day,
    )
    cell = {"month": MONTH, "by": "supplier", "key": supplier_id}

    then = browser.get("/dashboard/forbrug/celle", params={**cell, "known_on": f"{day:%d.%m.%Y}"}).text
    now = browser.get("/dashboard/forbrug/celle", params=cell).text
    api_then = client.get("/reports/spending/lineage", params={**cell, "known_at": end_of(day).isoformat()})
    api_now = client.get("/reports/spending/lineage", params=cell).json()
    forbrug = browser.get("/dashboard/forbrug", params={"by": "supplier", "known_on": day.isoformat()}).text

    amount_then, referrals_then, changes_then = cell_page(then)
    amount_now, _, changes_now = cell_page(now)
    assert api_then.status_code == 200
    assert amount_then == api_then.json()["amount"] and referrals_then == {
        r["referral_id"]: r["amount"] for r in api_then.json()["referrals"]
    }
    assert amount_now == api_now["amount"] != amount_then, "the adjustment moved February's amount"
    assert len(changes_then[referral_id]) == 1 and len(changes_now[referral_id]) == 2
    assert "Justeret" in now and "Justeret" not in then
    assert f"Kendt pr. {day:%d.%m.%Y}" in then and "Tallene som de står nu" in now
    position = re.search(r'data-testid="basis" data-position="(\d+)"', then)
    assert position and position.group(1) == api_then.headers["Caseledger-Position"]
    assert f"known_on={day.isoformat()}" in forbrug.split('data-cell-link="', 1)[1].split('"', 1)[0]
    assert f"known_on={day.isoformat()}" in then.split('href="/dashboard/forbrug/celle.xlsx?', 1)[1][:300]


def test_priser_known_on_a_day_leaves_out_a_later_back_dated_price_exception(
    client: TestClient, back_dated: BackDated
) -> None:
    referral_id, browser, day = back_dated.referral_id, back_dated.browser, back_dated.day

    then = browser.get("/dashboard/priser", params={"known_on": f"{day:%d.%m.%Y}"}).text
    now = browser.get("/dashboard/priser").text
    api_then = client.get("/reports/price-exceptions", params={"known_at": end_of(day).isoformat()}).json()
    api_now = client.get("/reports/price-exceptions").json()

    listed = re.compile(r'<tr data-referral="([^"]+)" data-type="([^"]+)">')
    assert [(r, t) for r, t in listed.findall(now)] == [
        (i["referral_id"], i["type"]) for i in api_now["items"]
    ]
    assert (referral_id, "referral.adjusted") in listed.findall(now)
    assert [(r, t) for r, t in listed.findall(then)] == [
        (i["referral_id"], i["type"]) for i in api_then["items"]
    ]
    assert (referral_id, "referral.adjusted") not in listed.findall(then)
    assert f"som de var kendt pr. {day:%d.%m.%Y}" in then and "som de var kendt pr." not in now
    assert ABOVE in now and ABOVE not in then
