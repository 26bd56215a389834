"""Accessibility of every dashboard page (issue 26): axe-core, run in headless Chromium at the
desktop and the phone size, finds no serious or critical violation of WCAG 2.1 A and AA."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_browser import months_ago

pytestmark = pytest.mark.browser

PAGES = (
    "overblik",
    "forbrug",
    "forbrug?by=supplier",
    "forbrug?by=supplier&from={sixty_ago}&to={this_month}&page=2",
    "forbrug/celle?month={this_month}&by=intervention&key=family-treatment",
    "forbrug/celle?month={this_month}&by=&page=2",
    "priser",
    "revisionsspor",
    "praksis",
    "match",
)
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _serious(page: Any) -> list[str]:
    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_the_login_page_has_no_serious_violation(sized: Any) -> None:
    sized.goto("/dashboard/")
    assert _serious(sized) == []


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_no_serious_violation(sized: Any, demo_server: DemoServer, path: str) -> None:
    today = copenhagen_today()
    asked = path.format(this_month=f"{today:%Y-%m}", sixty_ago=months_ago(today, 59))
    log_in(sized, demo_server.admin, f"/dashboard/{asked}")
    found = _serious(sized)
    screenshot(
        sized,
        f"a11y-{sized.viewport_name}-{re.sub(r'[^a-z]+', '-', path.replace('{this_month}', ''))[:48]}",
        full_page=False,
    )
    assert found == [], found


def test_axe_finds_a_violation_that_is_there(sized: Any, demo_server: DemoServer) -> None:
    """The check above is not blind: an image without a text alternative is found."""
    log_in(sized, demo_server.admin, "/dashboard/overblik")
    sized.evaluate("document.querySelector('main').append(Object.assign(new Image(), {src: '/x.png'}))")
    assert any(found.startswith("image-alt (critical)") for found in _serious(sized))


# Every link of the menu and every control of the filters, in the order Tab reaches them.
REACHABLE_JS = """() => Array.from(document.querySelectorAll(
  'nav a[href], main form select, main form input:not([type=hidden]), main form button, main a[download]'
)).filter(e => e.offsetParent !== null)"""


@pytest.mark.parametrize("path", ["overblik", "forbrug", "priser", "revisionsspor", "praksis", "match"])
def test_the_keyboard_reaches_every_menu_link_and_filter(
    sized: Any, demo_server: DemoServer, path: str
) -> None:
    log_in(sized, demo_server.admin, f"/dashboard/{path}")
    wanted = sized.evaluate_handle(REACHABLE_JS)
    count = sized.evaluate("els => els.length", wanted)
    assert count > 0
    sized.evaluate(
        "window.__reached = new Set(); document.addEventListener('focusin', e => window.__reached.add(e.target))"
    )
    for _ in range(count + 40):
        sized.keyboard.press("Tab")
    missed = sized.evaluate(
        "els => els.filter(e => !window.__reached.has(e)).map(e => e.outerHTML.slice(0, 80))", wanted
    )
    assert missed == []
    outline = sized.evaluate(
        "() => { const a = document.querySelector('nav a'); a.focus(); const s = getComputedStyle(a);"
        " return s.outlineStyle !== 'none' || s.boxShadow !== 'none'; }"
    )
    assert outline, "a focused menu link shows where the focus is"
