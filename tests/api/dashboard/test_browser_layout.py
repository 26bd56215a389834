"""The dashboard's layout in headless Chromium at a desktop size (1440×900) and on a phone
(390×844), issue 26: no page wider than the screen, a menu that wraps whole, money that keeps
"kr." with its number, counts written the Danish way (``1.760``), and Forbrug telling this month
and the committed months after it from the months gone by."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, count_text, log_in, screenshot

pytestmark = pytest.mark.browser

PAGES = ("overblik", "forbrug", "priser", "revisionsspor")

# Every element whose text breaks "kr." away from its number onto a line of its own, or a menu
# link or button that breaks over two lines.
BROKEN_MONEY_JS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const at = node.textContent.indexOf("kr.");
    if (at < 1 || !node.parentElement.offsetParent) continue;
    const range = document.createRange();
    range.setStart(node, Math.max(0, at - 3));
    range.setEnd(node, at + 3);
    const lines = new Set(Array.from(range.getClientRects()).map(r => Math.round(r.top)));
    if (lines.size > 1) found.push(node.textContent.trim());
  }
  return found;
}"""
WRAPPED_JS = """elements => elements.filter(e => {
  const line = parseFloat(getComputedStyle(e).lineHeight) || 20;
  return e.getBoundingClientRect().height > 1.6 * line + 14;
}).map(e => e.textContent.trim())"""


def test_no_page_is_wider_than_the_screen(sized: Any, demo_server: DemoServer) -> None:
    log_in(sized, demo_server.admin, "/dashboard/overblik")
    width = sized.viewport_size["width"]
    for slug in PAGES:
        sized.goto(f"/dashboard/{slug}")
        screenshot(sized, f"layout-{sized.viewport_name}-{slug}", full_page=False)

        assert sized.evaluate("document.documentElement.scrollWidth") <= width, slug
        tables = sized.locator("table.data").evaluate_all(
            "ts => ts.map(t => getComputedStyle(t.parentElement).overflowX)"
        )
        assert tables and set(tables) == {"auto"}, (slug, tables)
        assert sized.evaluate(BROKEN_MONEY_JS) == [], slug


def test_the_menu_wraps_whole_words(sized: Any, demo_server: DemoServer) -> None:
    log_in(sized, demo_server.admin, "/dashboard/overblik")
    width = sized.viewport_size["width"]

    menu = sized.get_by_role("navigation", name="Sider").get_by_role("link")
    logout = sized.get_by_role("button", name="Log ud")

    assert menu.all_inner_texts() == ["Overblik", "Forbrug", "Priser", "Revisionsspor", "Praksis", "Match"]
    for box in [*(link.bounding_box() for link in menu.all()), logout.bounding_box()]:
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert menu.evaluate_all(WRAPPED_JS) == []
    assert sized.locator("header.top button, header.top a").evaluate_all(WRAPPED_JS) == []


def test_counts_carry_thousands_separators(sized: Any, demo_server: DemoServer) -> None:
    with demo_server.api(demo_server.admin) as api:
        total = api.get("/referrals", params={"page_size": 1}).json()["total"]
    log_in(sized, demo_server.admin, "/dashboard/revisionsspor")

    pager = sized.locator("p.pager").inner_text()

    assert total >= 1000, "the demo has more than a thousand referrals"
    shown = pager.split("(")[1].split(" indstillinger")[0]
    assert "." in shown and count_text(shown) == total


def shifted(month: str, months: int) -> str:
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def test_forbrug_marks_this_month_and_the_committed_months_after_it(
    sized: Any, demo_server: DemoServer
) -> None:
    today = copenhagen_today()
    this_month = f"{today.year:04d}-{today.month:02d}"
    first, last = shifted(this_month, -5), shifted(this_month, 6)
    with demo_server.api(demo_server.reporter) as api:
        report = api.get("/reports/spending", params={"from": first, "to": last}).json()
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?from={first}&to={last}&by=")
    screenshot(sized, f"forbrug-{sized.viewport_name}-disponeret")

    headers = sized.locator("#spending thead th[data-month]").evaluate_all(
        "hs => hs.map(h => [h.dataset.month, h.dataset.period, h.textContent.trim()])"
    )
    bars = sized.locator("svg[data-testid=chart] rect.bar").evaluate_all(
        "rs => rs.map(r => [r.dataset.month, r.classList.contains('future')])"
    )
    future_months = {row["month"] for row in report["rows"] if row["month"] > this_month}

    assert [h[0] for h in headers] == [shifted(first, n) for n in range(12)]
    for month, period, text in headers:
        expected = "now" if month == this_month else "future" if month > this_month else "past"
        assert period == expected, (month, period)
        assert ("denne måned" in text) == (month == this_month)
        assert ("disponeret" in text) == (month > this_month)
    assert future_months, "the demo has committed spending after this month"
    assert {month for month, future in bars if future} == future_months
    assert all(future == (month > this_month) for month, future in bars)
    assert sized.get_by_test_id("now-band").count() == 1
    assert sized.get_by_test_id("future-band").count() == 1
    assert "Disponeret" in sized.get_by_test_id("time-legend").inner_text()
    amounts = sized.locator("#spending tfoot td[data-month]").evaluate_all(
        "cs => cs.map(c => [c.dataset.month, c.dataset.amount])"
    )
    by_month: dict[str, Decimal] = {}
    for row in report["rows"]:
        by_month[row["month"]] = by_month.get(row["month"], Decimal(0)) + Decimal(row["amount"])
    assert {m: Decimal(a) for m, a in amounts if Decimal(a)} == by_month
    assert sized.evaluate("document.documentElement.scrollWidth") <= sized.viewport_size["width"]
