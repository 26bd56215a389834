"""The "Kendt pr." day on Overblik, Forbrug and Priser over HTTP (no browser), on SQLite and
PostgreSQL: each page and its workbook read the report as ``known_at`` the end of the day asked for,
and say from which log position."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient

from api.dashboard.known import end_of
from application.service.caseledger import copenhagen_today
from tests.api.dashboard.test_pages import browse, lifecycle


def shown_position(page: str) -> str:
    found = re.search(r'data-testid="basis" data-position="(\d+)"', page)
    assert found, page
    return found.group(1)


def test_priser_known_on_a_day_reads_the_benchmarks_as_known_then(client: TestClient) -> None:
    lifecycle(client)
    browser, _ = browse(client, "reporter", "461")
    today = copenhagen_today()
    asked = end_of(today).isoformat()

    page = browser.get("/dashboard/priser", params={"known_on": f"{today:%d.%m.%Y}"}).text
    api = client.get("/reports/price-benchmarks", params={"known_at": asked})
    book = openpyxl.load_workbook(
        io.BytesIO(browser.get("/dashboard/priser.xlsx", params={"known_on": today.isoformat()}).content)
    )
    about = dict(book["Om udtrækket"].iter_rows(values_only=True))
    live = browser.get("/dashboard/priser", params={"known_on": "31.02.2026"}).text

    assert api.status_code == 200
    assert shown_position(page) == api.headers["Caseledger-Position"]
    assert f'data-known-at="{asked}"' in page and f"Kendt pr. {today:%d.%m.%Y}" in page
    assert re.search(r'href="/dashboard/priser\.xlsx\?[^"]*known_on=' + today.isoformat(), page)
    assert about["Kendt pr."] == f"{today:%d.%m.%Y}"
    assert about["Logposition"] == api.headers["Caseledger-Position"]
    assert "<strong>Kendt pr." not in live and "som de står nu" in live
    assert shown_position(live) == client.get("/reports/price-benchmarks").headers["Caseledger-Position"]


def test_overblik_known_on_a_day_reads_the_suppliers_as_known_then(client: TestClient) -> None:
    supplier_id, _, _ = lifecycle(client)
    browser, _ = browse(client, "reporter", "461")
    today = copenhagen_today()
    asked = end_of(today).isoformat()

    page = browser.get("/dashboard/overblik", params={"known_on": today.isoformat()}).text
    api = client.get("/reports/suppliers", params={"known_at": asked})
    book = openpyxl.load_workbook(
        io.BytesIO(browser.get("/dashboard/overblik.xlsx", params={"known_on": today.isoformat()}).content)
    )
    about = dict(book["Om udtrækket"].iter_rows(values_only=True))

    assert api.status_code == 200 and [row["supplier_id"] for row in api.json()] == [supplier_id]
    assert shown_position(page) == api.headers["Caseledger-Position"]
    assert f'data-supplier="{supplier_id}"' in page
    assert f'value="{today:%d.%m.%Y}"' in page and f"Kendt pr. {today:%d.%m.%Y}" in page
    assert about["Kendt pr."] == f"{today:%d.%m.%Y}"
    assert about["Logposition"] == api.headers["Caseledger-Position"]


def test_forbrug_known_on_a_day_reads_the_spending_as_known_then(client: TestClient) -> None:
    lifecycle(client)
    browser, _ = browse(client, "reporter", "461")
    today = copenhagen_today()
    asked = end_of(today).isoformat()
    period = {"from": "2026-01", "to": "2026-03"}

    page = browser.get("/dashboard/forbrug", params={**period, "known_on": f"{today:%d.%m.%Y}"}).text
    api = client.get("/reports/spending", params={**period, "known_at": asked})
    book = openpyxl.load_workbook(
        io.BytesIO(
            browser.get("/dashboard/forbrug.xlsx", params={**period, "known_on": today.isoformat()}).content
        )
    )
    about = dict(book["Om udtrækket"].iter_rows(values_only=True))

    assert api.status_code == 200 and api.json()["basis"]["known_at"] == asked
    assert shown_position(page) == str(api.json()["basis"]["position"])
    assert f'data-testid="total" data-amount="{api.json()["total"]}"' in page
    assert f"Kendt pr. {today:%d.%m.%Y}" in page and f"known_on={today.isoformat()}" in page
    assert about["Kendt pr."] == f"{today:%d.%m.%Y}"
    assert about["Logposition"] == api.headers["Caseledger-Position"]
