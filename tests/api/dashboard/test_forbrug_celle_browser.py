"""A Forbrug cell leads to what it is made of (issue 25 item 3), in headless Chromium on the demo:
a click, or Enter on the cell the arrow keys reach, opens the list of indstillinger that add up to
the cell, and each leads on to its Revisionsspor trail."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, kroner_text, log_in, screenshot

pytestmark = pytest.mark.browser

LINKED = "#spending tbody tr:not(.others) td[data-amount]:not(.total)"
CELL_JS = """c => ({amount: c.dataset.amount, key: c.parentElement.dataset.key,
    month: c.closest('table').tHead.rows[0].cells[c.cellIndex].dataset.month})"""


def _listed(page: Any) -> tuple[str, list[str]]:
    amount = page.get_by_test_id("cell-amount").get_attribute("data-amount")
    parts = page.locator("#lineage tbody td[data-amount]").evaluate_all("cs => cs.map(c => c.dataset.amount)")
    return amount, parts


def test_a_click_on_a_cell_lists_what_adds_up_to_it_and_leads_to_the_trail(
    page: Any, demo_server: DemoServer
) -> None:
    log_in(page, demo_server.admin, "/dashboard/forbrug?by=supplier")
    cell = page.locator(LINKED).first
    clicked = cell.evaluate(CELL_JS)
    with page.expect_navigation():
        cell.click()
    amount, parts = _listed(page)
    screenshot(page, "forbrug-celle")
    with demo_server.api(demo_server.admin) as api:
        expected = api.get(
            "/reports/spending/lineage",
            params={"month": clicked["month"], "by": "supplier", "key": clicked["key"]},
        ).json()

    assert "/dashboard/forbrug/celle?" in page.url and f"month={clicked['month']}" in page.url
    assert amount == clicked["amount"] == expected["amount"]
    assert parts and sum(Decimal(p) for p in parts) == Decimal(amount)
    assert kroner_text(page.locator("#lineage tfoot td[data-amount]").inner_text()) == Decimal(amount)

    first = page.locator("#lineage tbody th a").first
    referral_id = first.inner_text()
    with page.expect_navigation():
        first.click()
    assert f"/dashboard/revisionsspor?referral={referral_id}" in page.url
    assert page.locator("h1").inner_text()
    with page.expect_navigation():
        page.go_back()
    with page.expect_navigation():
        page.get_by_role("link", name="Tilbage til Forbrug").click()
    assert "by=supplier" in page.url


def test_the_keyboard_reaches_a_cell_moves_with_the_arrows_and_opens_it(
    page: Any, demo_server: DemoServer
) -> None:
    log_in(page, demo_server.admin, "/dashboard/forbrug?by=supplier")
    assert page.locator("#spending td[tabindex='0']").count() == 1, "one cell in the Tab order"
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName === 'TD'"):
            break
    start = page.evaluate(
        "(() => { const c = document.activeElement; return [c.parentElement.sectionRowIndex, c.cellIndex]; })()"
    )
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    moved = page.evaluate(
        "(() => { const c = document.activeElement; return [c.parentElement.sectionRowIndex, c.cellIndex]; })()"
    )
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    focused = page.evaluate(f"({CELL_JS})(document.activeElement)")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    amount, parts = _listed(page)

    assert moved == [start[0] + 1, start[1] + 1]
    assert amount == focused["amount"] and sum(Decimal(p) for p in parts) == Decimal(amount)
    assert f"key={focused['key']}" in page.url


def test_a_whole_months_cell_is_listed_a_hundred_at_a_time_with_the_cells_total(
    sized: Any, demo_server: DemoServer
) -> None:
    month = f"{copenhagen_today():%Y-%m}"
    log_in(sized, demo_server.reporter, "/dashboard/forbrug?by=&amounts=kr")
    with sized.expect_navigation():
        sized.locator(f"#spending tbody td:nth-child({_column(sized, month) + 1})").click()
    with demo_server.api(demo_server.reporter) as api:
        expected = api.get("/reports/spending/lineage", params={"month": month}).json()
    listed = expected["referrals"]
    first_amount, first_rows = _listed(sized)
    first_pager = sized.get_by_test_id("pager-øverst").inner_text()
    first_ids = sized.locator("#lineage tbody tr").evaluate_all("rs => rs.map(r => r.dataset.referral)")
    subtotal = sized.locator("[data-testid=page-total] td[data-amount]").get_attribute("data-amount")
    screenshot(sized, f"forbrug-celle-side-1-{sized.viewport_name}", full_page=False)

    # The keyboard reaches "Næste 100" and Enter opens the next page, the choices kept.
    for _ in range(40):
        sized.keyboard.press("Tab")
        if sized.evaluate("document.activeElement.rel === 'next'"):
            break
    with sized.expect_navigation():
        sized.keyboard.press("Enter")
    second_ids = sized.locator("#lineage tbody tr").evaluate_all("rs => rs.map(r => r.dataset.referral)")
    asked = parse_qs(urlsplit(sized.url).query)
    screenshot(sized, f"forbrug-celle-side-2-{sized.viewport_name}", full_page=False)

    assert len(listed) > 100, "the reduced demo's month has more than a page of indstillinger"
    assert (
        first_amount == expected["amount"] == sized.get_by_test_id("cell-amount").get_attribute("data-amount")
    )
    assert first_ids == [r["referral_id"] for r in listed[:100]]
    assert second_ids == [r["referral_id"] for r in listed[100:200]]
    assert sum(Decimal(a) for a in first_rows) == Decimal(subtotal or "x")
    assert first_pager.startswith(f"Viser 1–100 af {count_text_of(len(listed))}")
    assert asked["page"] == ["2"] and asked["amounts"] == ["kr"] and asked["month"] == [month]
    assert "by" in parse_qs(urlsplit(sized.url).query, keep_blank_values=True)
    assert (
        sized.get_by_test_id("pager-øverst")
        .inner_text()
        .startswith(f"Viser 101–{min(200, len(listed))} af {count_text_of(len(listed))}")
    )
    assert sized.evaluate("document.documentElement.scrollWidth") <= sized.viewport_size["width"]


def _column(page: Any, month: str) -> int:
    """The index of ``month``'s column in Forbrug's table."""
    index = page.locator("#spending thead th").evaluate_all(
        f"ths => ths.findIndex(th => th.dataset.month === '{month}')"
    )
    assert index > 0
    return int(index)


def count_text_of(number: int) -> str:
    """A count as the pages write it: ``1.637``."""
    return f"{number:,}".replace(",", ".")
