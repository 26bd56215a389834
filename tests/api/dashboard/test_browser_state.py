"""Issue 26, items 2 and 8 in headless Chromium at 1440×900 and 390×844: filters and sort are kept
in the address, so a reload (or a shared link) shows the same table; Forbrug's months are picked from
Danish month names; by supplier it shows the biggest N in thousands and gathers the rest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, chosen_month, log_in, pick_month, screenshot
from tests.api.dashboard.test_browser import months_ago

pytestmark = pytest.mark.browser

ROWS_JS = """rows => rows.filter(r => !r.hidden).map(r => r.dataset.supplier)"""


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_the_overview_filter_and_sort_survive_a_reload(sized: Any, demo_server: DemoServer) -> None:
    with demo_server.api(demo_server.reporter) as api:
        suppliers = api.get("/reports/suppliers").json()
    word = suppliers[0]["name"].split()[0].lower()
    log_in(sized, demo_server.reporter, "/dashboard/overblik")

    sized.fill("#filter-text", word)
    header = sized.get_by_role("columnheader", name="Bevilget forbrug")
    header.click()
    header.click()
    before = sized.locator("#suppliers tbody tr").evaluate_all(ROWS_JS)
    asked = query(sized)
    sized.reload()
    after = sized.locator("#suppliers tbody tr").evaluate_all(ROWS_JS)
    screenshot(sized, f"overblik-reloaded-{sized.viewport_name}", full_page=False)

    assert asked["q"] == [word] and asked["dir"] == ["desc"]
    assert sized.input_value("#filter-text") == word
    assert sized.locator("th[aria-sort=descending]").inner_text() == "Bevilget forbrug"
    matching = [s for s in suppliers if word in f"{s['name']} {s['cvr']}".lower()]
    assert 0 < len(after) == len(matching) < len(suppliers)
    assert after == before
    by_id = {s["supplier_id"]: Decimal(s["committed_total"]) for s in suppliers}
    amounts = [by_id[supplier] for supplier in after]
    assert amounts == sorted(amounts, reverse=True)
    export = sized.get_by_test_id("export").get_attribute("href")
    assert parse_qs(urlsplit(export).query)["q"] == [word]


def test_forbrug_picks_danish_months_and_keeps_period_and_sort(sized: Any, demo_server: DemoServer) -> None:
    today = copenhagen_today()
    start, end = months_ago(today, 6), months_ago(today, 2)
    log_in(sized, demo_server.reporter, "/dashboard/forbrug")

    names = sized.locator("select[name=from_month] option").all_inner_texts()
    pick_month(sized, "from", start)
    pick_month(sized, "to", end)
    with sized.expect_navigation():
        sized.click("#spending-form button[type=submit]")
    sized.get_by_role("columnheader", name="I alt").click()
    asked = query(sized)
    sized.reload()
    kept = chosen_month(sized, "from"), chosen_month(sized, "to")
    sorted_header = sized.locator("#spending th[aria-sort]")
    sort_kept = (sorted_header.get_attribute("data-key"), sorted_header.get_attribute("aria-sort"))
    with sized.expect_navigation():
        sized.select_option("select[name=by]", "legal_basis")
    after_grouping = query(sized)
    totals = sized.locator("#spending tbody td.total").evaluate_all(
        "cells => cells.map(c => c.dataset.amount)"
    )
    screenshot(sized, f"forbrug-reloaded-{sized.viewport_name}", full_page=False)

    assert len(names) == 12
    assert (names[0], names[2], names[4], names[9]) == ("januar", "marts", "maj", "oktober")
    assert sized.locator("input[type=month]").count() == 0
    assert (asked["from"], asked["to"], asked["sort"], asked["dir"]) == ([start], [end], ["total"], ["asc"])
    assert not {"from_month", "from_year", "to_month", "to_year"} & set(asked)
    assert kept == (start, end)
    assert sort_kept == ("total", "ascending")
    assert (after_grouping["by"], after_grouping["from"], after_grouping["sort"]) == (
        ["legal_basis"],
        [start],
        ["total"],
    )
    assert [Decimal(t) for t in totals] == sorted(Decimal(t) for t in totals)


def test_forbrug_by_supplier_shows_the_biggest_in_thousands_and_gathers_the_rest(
    sized: Any, demo_server: DemoServer
) -> None:
    log_in(sized, demo_server.reporter, "/dashboard/forbrug?by=supplier")
    first, last = chosen_month(sized, "from"), chosen_month(sized, "to")

    with sized.expect_navigation():
        sized.select_option("select[name=top]", "10")
    with sized.expect_navigation():
        sized.select_option("select[name=amounts]", "tkr")
    rows = sized.locator("#spending tbody tr").evaluate_all(
        "rows => rows.map(r => ({key: r.dataset.key, others: r.dataset.others || null,"
        " total: r.querySelector('td.total').dataset.amount,"
        " text: r.querySelector('td.total').textContent.trim()}))"
    )
    screenshot(sized, f"forbrug-top-10-tkr-{sized.viewport_name}")
    with demo_server.api(demo_server.reporter) as api:
        report = api.get("/reports/spending", params={"from": first, "to": last, "by": "supplier"}).json()

    totals: dict[str, Decimal] = {}
    for row in report["rows"]:
        totals[row["key"]] = totals.get(row["key"], Decimal(0)) + Decimal(row["amount"])
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    assert len(ranked) > 10
    assert "top=10" in sized.url and "amounts=tkr" in sized.url
    assert [row["key"] for row in rows[:10]] == [key for key, _ in ranked[:10]]
    assert rows[10]["others"] == str(len(ranked) - 10) and len(rows) == 11
    assert Decimal(rows[10]["total"]) == sum(amount for _, amount in ranked[10:])
    for row in rows:
        assert row["text"].endswith("\u00a0t.kr.")
        shown = Decimal(row["text"].removesuffix("\u00a0t.kr.").replace(".", ""))
        assert abs(shown * 1000 - Decimal(row["total"])) <= 500
