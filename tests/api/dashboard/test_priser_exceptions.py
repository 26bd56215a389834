"""Priser's price exceptions and price-list hygiene over HTTP, on SQLite and PostgreSQL: the page and
its workbook's sheet "Prisundtagelser" hold the figures of ``GET /reports/price-exceptions`` and
``GET /reports/price-lists``, by name, and only a holder of ``audit:read`` gets the links to the trails."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.api import bodies
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_pages import browse

ABOVE = "Only supplier with a psychologist free this quarter"
ROW = re.compile(r'<tr data-referral="([^"]+)" data-type="([^"]+)">(.*?)</tr>', re.S)


def _exceptions(client: TestClient) -> tuple[str, str]:
    """Two agreements above the list (one adjusted above it again) and one at the list rate, in 461;
    one above the list in 101. Answers the 461 referral adjusted and its supplier."""
    agreement = bodies.hourly_agreement("900.00", rationale=ABOVE)
    supplier_id, adjusted, _ = bodies.agreed(client, agreement)
    body = bodies.adjustment("2026-03-01", hourly_rate="935.50", decided_on="2026-02-25")
    bodies.created(client.post(f"/referrals/{adjusted}/adjustment", json=body), 200)
    bodies.agreed(
        client,
        bodies.hourly_agreement(
            "1000.00", agreed_on="2026-01-12", rationale="Urgent: <b>no one</b> else free"
        ),
    )
    bodies.agreed(client, bodies.hourly_agreement())
    other = bodies.supplier_with_prices(client)
    bodies.created(
        client.post(f"/suppliers/{other}/price-lists", json=bodies.price_list(municipality="101")), 200
    )
    bodies.agreed(
        client, bodies.hourly_agreement("990.00", rationale=ABOVE), supplier_id=other, municipality="101"
    )
    position = bodies.last_position(client)
    assert client.get("/reports/spending", params={"min_position": position}).status_code == 200
    return adjusted, supplier_id


def _cell(row: str, field: str, attribute: str) -> str:
    found = re.search(rf'data-field="{field}" {attribute}="([^"]*)"', row)
    assert found, (field, row)
    return found.group(1)


def _text(row: str, field: str) -> str:
    found = re.search(rf'data-field="{field}"[^>]*>(.*?)</td>', row, re.S)
    assert found, (field, row)
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_priser_lists_the_price_exceptions_as_the_endpoint_answers_them(client: TestClient) -> None:
    _exceptions(client)
    auditor, secret = browse(client, "auditor", "461")
    reporter, _ = browse(client, "reporter", "461")
    headers = {"Authorization": f"Bearer {secret}"}

    report = client.get("/reports/price-exceptions", headers=headers).json()
    page = auditor.get("/dashboard/priser")
    without_links = reporter.get("/dashboard/priser")

    assert page.status_code == 200 and without_links.status_code == 200
    rows = ROW.findall(page.text)
    assert report["total"] == 3  # two agreements and one adjustment above the list, in 461 only
    assert [(referral, kind) for referral, kind, _ in rows] == [
        (item["referral_id"], item["type"]) for item in report["items"]
    ]
    assert f'data-total="{report["total"]}"' in page.text
    for (referral_id, _, row), item in zip(rows, report["items"], strict=True):
        assert _cell(row, "agreed", "data-amount") == item["agreed"]
        assert _cell(row, "list_rate", "data-amount") == item["list_rate"]
        assert _cell(row, "difference_pct", "data-number") == item["difference_pct"]
        assert _text(row, "difference_pct") == f"+{item['difference_pct'].replace('.', ',')}\u00a0%"
        assert _cell(row, "list_age_days", "data-number") == str(item["list_age_days"])
        assert _text(row, "supplier") == item["supplier_name"]
        assert _text(row, "intervention").startswith("Familiebehandling")
        assert _text(row, "rationale") == item["rationale"]
        assert _text(row, "decided_by") == (item["actor"].get("name") or item["actor"]["id"])
        assert f'href="/dashboard/revisionsspor?referral={referral_id}"' in row
    assert "&lt;b&gt;no one&lt;/b&gt;" in page.text  # a rationale is text, never markup
    assert [r for r, _, _ in ROW.findall(without_links.text)] == [r for r, _, _ in rows]
    assert "/dashboard/revisionsspor?referral=" not in without_links.text


def test_priser_shows_the_price_list_hygiene_of_the_endpoint(client: TestClient) -> None:
    _exceptions(client)
    reporter, secret = browse(client, "reporter", "461")

    lists = client.get("/reports/price-lists", headers={"Authorization": f"Bearer {secret}"}).json()
    page = reporter.get("/dashboard/priser").text

    stale = re.findall(
        r'<tr data-supplier="([^"]+)" data-municipality="(\d+)" data-negotiated="([^"]+)">', page
    )
    assert stale == [(r["supplier_id"], r["municipality"], r["negotiated_on"]) for r in lists["stale"]]
    ages = re.findall(r'data-field="age_days" data-number="(\d+)"', page)
    assert ages == [str(r["age_days"]) for r in lists["stale"]]
    missing = re.findall(r'data-intervention="([^"]+)">\s*<td>[^<]*</td>\s*<td>(\d+)</td>', page)
    assert missing == [(r["intervention"], r["municipality"]) for r in lists["missing"]]
    assert {r["municipality"] for r in lists["stale"]} <= {"461"}


def test_the_prices_workbook_has_the_price_exceptions_sheet(client: TestClient) -> None:
    adjusted, _ = _exceptions(client)
    browser, secret = browse(client, "reporter", "461")

    report = client.get("/reports/price-exceptions", headers={"Authorization": f"Bearer {secret}"}).json()
    response = browser.get("/dashboard/priser.xlsx")

    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Priser", "Prisundtagelser", "Om udtrækket"]
    header, *rows = book["Prisundtagelser"].iter_rows(values_only=True)
    assert header[:7] == (
        "Besluttet",
        "Leverandør",
        "Indsats",
        "Enhed",
        "Aftalt takst",
        "Listepris",
        "Forskel (%)",
    )
    assert len(rows) == report["total"] == len(report["items"])
    for row, item in zip(rows, report["items"], strict=True):
        shown: dict[str, Any] = dict(zip(header, row, strict=True))
        assert shown["Besluttet"].date().isoformat() == item["decided_on"]
        assert shown["Leverandør"] == item["supplier_name"]
        assert shown["Indsats"] == "Familiebehandling"
        assert Decimal(str(shown["Aftalt takst"])) == Decimal(item["agreed"])
        assert Decimal(str(shown["Listepris"])) == Decimal(item["list_rate"])
        assert Decimal(str(shown["Forskel (%)"])) == Decimal(item["difference_pct"])
        assert shown["Listens alder (dage)"] == item["list_age_days"]
        assert shown["Begrundelse"] == item["rationale"]
        assert shown["Indstilling"] == item["referral_id"]
    assert adjusted in {row[-1] for row in rows}


# In headless Chromium on the demo: what a person sees equals the endpoints.

EXCEPTION_ROWS_JS = """rows => rows.map(r => ({
  referral: r.dataset.referral,
  agreed: r.querySelector('[data-field=agreed]').dataset.amount,
  list_rate: r.querySelector('[data-field=list_rate]').dataset.amount,
  difference: r.querySelector('[data-field=difference_pct]').dataset.number,
  supplier: r.querySelector('[data-field=supplier]').textContent.trim(),
  rationale: r.querySelector('[data-field=rationale]').textContent.trim(),
  trail: r.querySelector('a[href^="/dashboard/revisionsspor"]')?.getAttribute('href') ?? null,
}))"""


@pytest.mark.browser
@pytest.mark.parametrize("who", ["admin", "reporter"])
def test_priser_in_the_browser_shows_the_demos_price_exceptions_and_lists(
    page: Any, demo_server: DemoServer, who: str
) -> None:
    token = getattr(demo_server, who)
    log_in(page, token, "/dashboard/priser")
    shown = page.locator("#exceptions tbody tr").evaluate_all(EXCEPTION_ROWS_JS)
    stale = page.locator("#stale-lists tbody tr").evaluate_all("rows => rows.map(r => r.dataset.supplier)")
    with demo_server.api(token) as api:
        report = api.get("/reports/price-exceptions").json()
        lists = api.get("/reports/price-lists").json()
    screenshot(page, f"priser-exceptions-{who}")

    assert report["items"], "the demo has prices above the list"
    assert [row["referral"] for row in shown] == [item["referral_id"] for item in report["items"]]
    for row, item in zip(shown, report["items"], strict=True):
        assert (row["agreed"], row["list_rate"], row["difference"]) == (
            item["agreed"],
            item["list_rate"],
            item["difference_pct"],
        )
        assert row["supplier"] == item["supplier_name"]
        assert row["rationale"] == item["rationale"]
        wanted = f"/dashboard/revisionsspor?referral={item['referral_id']}" if who == "admin" else None
        assert row["trail"] == wanted
    assert stale == [row["supplier_id"] for row in lists["stale"]]
    if who == "admin":
        with page.expect_navigation():
            page.click("#exceptions tbody tr:first-child a")
        assert page.locator("[data-testid=integrity]").is_visible()
