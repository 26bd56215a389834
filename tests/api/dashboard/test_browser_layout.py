"""The dashboard's layout in headless Chromium at a desktop size (1440×900) and on a phone
(390×844), issue 26: no page wider than the screen, a menu that wraps whole, money that keeps
"kr." with its number, and counts written the Danish way (``1.760``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.dashboard.support import DemoServer, count_text, log_in, screenshot

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
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


@pytest.fixture(params=list(VIEWPORTS))
def sized(request: pytest.FixtureRequest, browser: Any, demo_server: DemoServer) -> Iterator[Any]:
    """A fresh page at the desktop or the phone size."""
    context = browser.new_context(base_url=demo_server.base_url, viewport=VIEWPORTS[request.param])
    opened = context.new_page()
    opened.viewport_name = request.param
    yield opened
    context.close()


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

    assert menu.all_inner_texts() == ["Overblik", "Forbrug", "Priser", "Revisionsspor"]
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
    shown = pager.split("(")[1].split(" henvisninger")[0]
    assert "." in shown and count_text(shown) == total
