"""The charts' text on a desktop (1440×900) and a phone (390×844), issue 26 item 1: an SVG chart
scales with its box, and on a phone its axis text shrank to about 4 px. Every text of Forbrug's and
Praksis' charts must render at 10 CSS px or more, the chart scrolling sideways in its own figure
rather than widening the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.dashboard.support import DemoServer, log_in, screenshot

pytestmark = pytest.mark.browser

# Each chart text's font size as drawn: its computed size in the SVG's units times the SVG's scale,
# and the height of its box on the screen.
TEXT_SIZES_JS = """svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Array.from(svg.querySelectorAll('text')).map(t => ({
    text: t.textContent.trim(),
    size: parseFloat(getComputedStyle(t).fontSize) * scale,
    height: t.getBoundingClientRect().height,
  }));
}"""
FIGURE_JS = """f => ({scrolls: f.scrollWidth > f.clientWidth, tabindex: f.tabIndex,
  inside: f.getBoundingClientRect().right <= document.documentElement.clientWidth})"""


@pytest.mark.parametrize(
    ("path", "chart"),
    [("forbrug", "chart"), ("forbrug?by=supplier", "chart"), ("praksis", "lead-time-chart")],
)
def test_chart_text_is_at_least_ten_pixels(
    sized: Any, demo_server: DemoServer, path: str, chart: str
) -> None:
    log_in(sized, demo_server.reporter, f"/dashboard/{path}")
    svg = sized.get_by_test_id(chart)
    svg.scroll_into_view_if_needed()
    texts = svg.evaluate(TEXT_SIZES_JS)
    shape = sized.locator("figure.chart").first.evaluate(FIGURE_JS)
    screenshot(
        sized, f"chart-{sized.viewport_name}-{path.replace('?', '-').replace('=', '-')}", full_page=False
    )

    assert len(texts) > 10, "the axes are labelled"
    small = [t for t in texts if t["size"] < 10 or t["height"] < 10]
    assert small == [], small
    assert sized.evaluate("document.documentElement.scrollWidth") <= sized.viewport_size["width"]
    assert shape["inside"]
    assert shape["scrolls"] == (sized.viewport_name == "phone")
    assert shape["tabindex"] == 0, "a figure that scrolls can be scrolled from the keyboard"
