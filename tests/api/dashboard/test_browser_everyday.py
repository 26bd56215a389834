"""Issue 26's defects 6, 7 and 8 in headless Chromium at 1440×900 and 390×844, as a person meets
them: every page's workbook downloaded by its link opens with Danish headers and the table shown;
the pages use the municipal words and link the glossary; an auditor starts on Revisionsspor, an
unknown Kommune code is answered with a message, and the login page shows no command line."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.api.dashboard.support import DemoServer, log_in, screenshot

pytestmark = pytest.mark.browser

# The table's first column header and its body rows' first cells, as the page shows them.
TABLE_JS = """t => ({
  header: t.tHead.rows[0].cells[0].innerText.trim(),
  first: Array.from(t.tBodies[0].rows).filter(r => !r.hidden).map(r => r.cells[0].innerText.trim()),
})"""
OLD_WORDS = re.compile(r"henvis|matchet|forpligtet|timepris|dagspris", re.IGNORECASE)
SHOWN_TEXT_JS = """() => document.body.innerText + ' ' + Array.from(
  document.querySelectorAll('[title], [aria-label], [placeholder]')).map(e =>
  [e.title, e.getAttribute('aria-label'), e.getAttribute('placeholder')].join(' ')).join(' ')"""


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("overblik", "#suppliers"),
        ("forbrug?by=supplier&top=10", "#spending"),
        ("priser", "table.data"),
        ("praksis?by=supplier", "#practice"),
    ],
)
def test_each_pages_workbook_is_the_table_shown_with_danish_headers(
    sized: Any, demo_server: DemoServer, path: str, table: str
) -> None:
    log_in(sized, demo_server.reporter, f"/dashboard/{path}")
    shown = sized.locator(table).first.evaluate(TABLE_JS)
    link = sized.get_by_test_id("export")
    link.scroll_into_view_if_needed()
    with sized.expect_download() as download_info:
        link.click()
    download = download_info.value
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    header, *rows = book.worksheets[0].iter_rows(values_only=True)
    screenshot(sized, f"export-{sized.viewport_name}-{path.split('?', maxsplit=1)[0]}", full_page=False)

    assert download.suggested_filename.endswith(".xlsx")
    assert book.sheetnames[-1] == "Om udtrækket"
    assert header[0] == shown["header"]
    assert all(isinstance(h, str) and "_" not in h for h in header), f"no API field names: {header}"
    labels = [str(row[0]) for row in rows if row[0] != "I alt"]
    assert labels == shown["first"]
    assert book.worksheets[0].freeze_panes is not None


@pytest.mark.parametrize(
    "path", ["overblik", "forbrug?by=supplier", "priser", "revisionsspor", "praksis", "ordliste"]
)
def test_the_pages_use_the_municipal_words_and_link_the_glossary(
    sized: Any, demo_server: DemoServer, path: str
) -> None:
    log_in(sized, demo_server.auditor)
    sized.goto(f"/dashboard/{path}")
    text = sized.evaluate(SHOWN_TEXT_JS)
    glossary = sized.get_by_role("link", name="Ordliste", exact=True)
    box = glossary.bounding_box()
    with sized.expect_navigation():
        glossary.click()
    terms = sized.locator("dl.glossary dt").all_inner_texts()

    assert OLD_WORDS.findall(text) == [], path
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= sized.viewport_size["width"]
    assert sized.url.endswith("/dashboard/ordliste")
    for term in ("Indstilling", "Leverandør", "Indsats", "Takst", "Bevilget forbrug", "Disponeret"):
        assert term in terms


def test_an_auditor_starts_on_revisionsspor(sized: Any, demo_server: DemoServer) -> None:
    sized.goto("/dashboard/")
    login_text = sized.locator("main").inner_text()
    log_in(sized, demo_server.auditor)
    screenshot(sized, f"auditor-start-{sized.viewport_name}", full_page=False)

    assert "caseledger tokens" not in login_text and sized.locator("main code").count() == 0
    assert sized.url.endswith("/dashboard/revisionsspor")
    assert sized.locator("nav a[aria-current=page]").inner_text() == "Revisionsspor"


@pytest.mark.parametrize("slug", ["overblik", "forbrug", "priser"])
def test_an_unknown_kommune_code_is_answered_with_a_message(
    sized: Any, demo_server: DemoServer, slug: str
) -> None:
    log_in(sized, demo_server.admin, f"/dashboard/{slug}")
    sized.fill("input[name=municipality]", "999")
    with sized.expect_navigation() as navigation:
        sized.locator("form.filters button[type=submit]").click()
    screenshot(sized, f"kommune-999-{sized.viewport_name}-{slug}", full_page=False)

    assert navigation.value.status == 404
    assert "Der findes ingen kommune med koden 999." in sized.locator("main").inner_text()
    assert sized.evaluate("document.documentElement.scrollWidth") <= sized.viewport_size["width"]
