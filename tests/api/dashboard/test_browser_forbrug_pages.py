"""Issue 26 in headless Chromium at 1440×900 and 390×844: Forbrug by supplier over 60 months is
shown a page of rows at a time (the browser's layout of every row took most of its load), the
"I alt" row still the total of every supplier, the page kept in the address, and the workbook
still every row; a table within the cell budget (12 months, or the top 10) stays one page."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from api.dashboard.forbrug import CELL_BUDGET, rows_per_page
from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_browser import money, months_ago

pytestmark = pytest.mark.browser

ROWS_JS = "rows => rows.map(r => [r.dataset.key, r.querySelector('td.total').dataset.amount])"
FOOT_JS = """foot => ({label: foot.querySelector('th').textContent.trim(),
  months: Object.fromEntries(Array.from(foot.querySelectorAll('td[data-month]'))
    .map(c => [c.dataset.month, c.dataset.amount])),
  total: foot.querySelector('td:last-child').dataset.amount})"""


def sixty_months() -> tuple[str, str]:
    today = copenhagen_today()
    return months_ago(today, 47), months_ago(today, -12)


def spending(demo_server: DemoServer, first: str, last: str) -> dict[str, Any]:
    with demo_server.api(demo_server.reporter) as api:
        report: dict[str, Any] = api.get(
            "/reports/spending", params={"from": first, "to": last, "by": "supplier"}
        ).json()
    return report


def ranked(report: dict[str, Any]) -> list[tuple[str, Decimal]]:
    """Every supplier's total over the period, biggest first (ties by key: none in the demo)."""
    totals: dict[str, Decimal] = {}
    for row in report["rows"]:
        key = row["key"] or ""
        totals[key] = totals.get(key, Decimal(0)) + Decimal(row["amount"])
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def shown(page: Any) -> tuple[list[tuple[str, Decimal]], dict[str, Any]]:
    rows = page.locator("#spending tbody tr").evaluate_all(ROWS_JS)
    foot = page.locator("#spending tfoot tr").evaluate(FOOT_JS)
    return [(key, Decimal(total)) for key, total in rows], foot


def test_sixty_months_by_supplier_are_paged_with_the_total_of_all(
    sized: Any, demo_server: DemoServer
) -> None:
    first, last = sixty_months()
    report = spending(demo_server, first, last)
    every = ranked(report)
    size = rows_per_page(62)
    month_totals: dict[str, Decimal] = {}
    for row in report["rows"]:
        month_totals[row["month"]] = month_totals.get(row["month"], Decimal(0)) + Decimal(row["amount"])
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?by=supplier&from={first}&to={last}")

    page_one, foot_one = shown(sized)
    pager = sized.get_by_test_id("pager-øverst")
    pager_text = pager.inner_text()
    # Næste by keyboard: Tab reaches the link, Enter follows it.
    pager.get_by_role("link", name="Næste").focus()
    with sized.expect_navigation():
        sized.keyboard.press("Enter")
    page_two, foot_two = shown(sized)
    lower_pager = sized.get_by_test_id("pager-nederst").inner_text()
    asked = parse_qs(urlsplit(sized.url).query)
    screenshot(sized, f"forbrug-60-page-2-{sized.viewport_name}", full_page=False)
    sized.reload()
    reloaded, _ = shown(sized)

    assert len(every) * 62 > CELL_BUDGET and size * 62 <= CELL_BUDGET, "the demo's table is paged"
    assert len(every) <= 2 * size, "two pages: the test reads both"
    assert pager_text.startswith(f"Viser 1–{size} af {len(every)}") and "Næste" in pager_text
    assert "Forrige" not in pager_text
    assert page_one == every[:size]
    assert page_two == every[size:] == reloaded
    assert (
        lower_pager.startswith(f"Viser {size + 1}–{len(every)} af {len(every)}") and "Forrige" in lower_pager
    )
    assert (asked["page"], asked["by"], asked["from"], asked["to"]) == (["2"], ["supplier"], [first], [last])
    # "I alt" is every supplier's, to the øre, on every page; not the page's.
    for foot in (foot_one, foot_two):
        assert foot["label"] == "I alt (alle leverandører)"
        assert Decimal(foot["total"]) == Decimal(report["total"]) == sum(total for _, total in every)
        assert {m: Decimal(a) for m, a in foot["months"].items() if m in month_totals} == month_totals
        assert all(Decimal(a) == 0 for m, a in foot["months"].items() if m not in month_totals)
    assert Decimal(foot_two["total"]) != sum(total for _, total in page_two)

    # The workbook holds every supplier, whichever page it was downloaded from.
    link = sized.get_by_test_id("export")
    assert "page" not in parse_qs(urlsplit(link.get_attribute("href")).query)
    link.scroll_into_view_if_needed()
    with sized.expect_download() as download_info:
        link.click()
    header, *rows = (
        openpyxl.load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes()))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    *body, footer = rows
    assert len(header) == 62 and len(body) == len(every)
    assert [money(row[-1]) for row in body] == [total for _, total in every]
    assert footer[0] == "I alt" and money(footer[-1]) == Decimal(report["total"])


def test_a_paged_table_is_sorted_over_every_row(sized: Any, demo_server: DemoServer) -> None:
    first, last = sixty_months()
    every = ranked(spending(demo_server, first, last))
    size = rows_per_page(62)
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?by=supplier&from={first}&to={last}&page=2")

    with sized.expect_navigation():
        sized.get_by_role("columnheader", name="I alt").click()
    smallest, _ = shown(sized)
    asked = parse_qs(urlsplit(sized.url).query)
    header = sized.locator("#spending th[aria-sort]")
    sort_shown = (header.get_attribute("data-key"), header.get_attribute("aria-sort"))
    with sized.expect_navigation():
        sized.get_by_test_id("pager-nederst").get_by_role("link", name="Næste").click()
    rest, _ = shown(sized)

    assert (asked["sort"], asked["dir"], "page" in asked) == (["total"], ["asc"], False)
    assert sort_shown == ("total", "ascending")
    totals = sorted(total for _, total in every)
    assert [total for _, total in smallest] == totals[:size]
    assert [total for _, total in rest] == totals[size:]
    assert "sort=total" in sized.url and "page=2" in sized.url


def test_the_top_n_come_first_and_then_pages(sized: Any, demo_server: DemoServer) -> None:
    first, last = sixty_months()
    every = ranked(spending(demo_server, first, last))
    size = rows_per_page(62)
    top = CELL_BUDGET // 62  # the fewest rows of their own that, with "Øvrige", exceed the budget
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?by=supplier&from={first}&to={last}&top={top}")
    page_one, _ = shown(sized)
    with sized.expect_navigation():
        sized.get_by_test_id("pager-øverst").get_by_role("link", name="Næste").click()
    page_two, foot = shown(sized)
    others = sized.locator("#spending tbody tr.others").get_attribute("data-others")
    sized.goto(f"/dashboard/forbrug?by=supplier&from={first}&to={last}&top=10")
    top_ten = sized.locator("#spending tbody tr").count()
    one_page = sized.get_by_test_id("pager-øverst").count()

    assert len(every) > top + 1 and (top + 1) * 62 > CELL_BUDGET > size * 62
    assert page_one == every[:size]
    assert page_two[:-1] == every[size:top] and page_two[-1][0] == ""
    assert others == str(len(every) - top)
    assert page_two[-1][1] == sum(total for _, total in every[top:])
    assert Decimal(foot["total"]) == sum(total for _, total in every)
    assert (top_ten, one_page) == (11, 0)


def test_twelve_months_by_supplier_stay_one_page(sized: Any, demo_server: DemoServer) -> None:
    log_in(sized, demo_server.reporter, "/dashboard/forbrug?by=supplier")
    rows = sized.locator("#spending tbody tr").count()
    assert rows > 0 and CELL_BUDGET >= 163 * 14, "the full demo's 163 suppliers too"
    assert sized.get_by_test_id("pager-øverst").count() == 0
    assert sized.locator("#spending tfoot th").inner_text() == "I alt"
    assert sized.locator("#spending[data-paged]").count() == 0


def test_a_cell_leads_back_to_the_page_and_sort_it_was_opened_from(
    sized: Any, demo_server: DemoServer
) -> None:
    first, last = sixty_months()
    address = f"/dashboard/forbrug?by=supplier&from={first}&to={last}&sort=total&dir=asc&page=2"
    log_in(sized, demo_server.reporter, address)
    left, _ = shown(sized)
    cell = sized.locator("#spending tbody td[data-amount]:not(.total)").filter(has_not_text="–").first
    with sized.expect_navigation():
        cell.click()
    on_cell = sized.url
    with sized.expect_navigation():
        sized.get_by_role("link", name="Tilbage til Forbrug").click()
    back, _ = shown(sized)
    asked = parse_qs(urlsplit(sized.url).query)

    assert "/dashboard/forbrug/celle?" in on_cell
    assert (asked["page"], asked["sort"], asked["dir"]) == (["2"], ["total"], ["asc"])
    assert back == left
    size = rows_per_page(62)
    assert sized.get_by_test_id("pager-nederst").inner_text().startswith(f"Viser {size + 1}–")
