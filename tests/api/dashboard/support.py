"""Helpers for the dashboard's browser tests: the demo server's handle, logging in, screenshots,
and reading numbers off the pages."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_SIZE = {"weeks": 52, "suppliers": 60, "per_week": 20, "seed": 461}
REPORTER_MUNICIPALITY = "461"
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
"""The sizes the layout and accessibility tests run at: a desktop and a phone."""


def browser_required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"the browser tests are required in CI: {reason}")
    pytest.skip(reason)


def chromium_path() -> str:
    configured = os.environ.get("CASELEDGER_TEST_CHROMIUM")
    found = configured or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not Path(found).exists():
        unavailable("no chromium executable (apt-get install chromium)")
    assert found is not None
    return found


@dataclass(frozen=True)
class DemoServer:
    """The running caseledger: its address, database and the tokens' secrets."""

    base_url: str
    database_url: str
    admin: str
    reporter: str
    auditor: str

    def api(self, token: str) -> httpx.Client:
        """An HTTP client for the JSON API with ``token`` as its bearer."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot as a test artefact (test-artifacts/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page: Any, token: str, path: str = "/dashboard/") -> None:
    """Log in through the form, as a person would."""
    page.goto(path)
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("section.login button[type=submit]")


def kroner_text(text: str) -> Decimal:
    """The amount in a Danish money text: ``1.234,50 kr.`` → ``Decimal("1234.50")``."""
    cleaned = text.strip().removesuffix("kr.").strip().replace(".", "").replace(",", ".")
    return Decimal(cleaned)


def count_text(text: str) -> int:
    """The number in a Danish count: ``1.760`` → ``1760`` (dots only as thousands separators)."""
    cleaned = text.strip()
    assert cleaned.replace(".", "").isdigit() and all(len(g) == 3 for g in cleaned.split(".")[1:]), text
    return int(cleaned.replace(".", ""))


def pick_month(page: Any, name: str, month: str) -> None:
    """Choose ``YYYY-MM`` in Forbrug's month picker ``name`` (``from`` or ``to``): two selects."""
    page.select_option(f"select[name={name}_year]", month[:4])
    page.select_option(f"select[name={name}_month]", month[5:])


def chosen_month(page: Any, name: str) -> str:
    """The ``YYYY-MM`` chosen in Forbrug's month picker ``name``."""
    return f"{page.input_value(f'select[name={name}_year]')}-{page.input_value(f'select[name={name}_month]')}"


def spending_cells(html: str) -> dict[tuple[str, str], tuple[str | None, str]]:
    """Forbrug's table body as served: ``{(row key, month): (exact amount or None, text)}``; a cell's
    month is its column header's ``data-month``."""
    table = html.split('id="spending"', 1)[1].split("</table>", 1)[0]
    head, rest = table.split("<tbody>", 1)
    months = re.findall(r'<th [^>]*data-month="([^"]+)"', head)
    cells: dict[tuple[str, str], tuple[str | None, str]] = {}
    for key, row in re.findall(r'<tr data-key="([^"]*)"[^>]*>(.*?)</tr>', rest.split("</tbody>", 1)[0], re.S):
        found = re.findall(r"<td([^>]*)>([^<]*)</td>", row)
        assert len(found) == len(months) + 1, "a cell per month and the row's total"
        for month, (attributes, text) in zip(months, found, strict=False):
            amount = re.search(r'data-amount="([^"]+)"', attributes)
            cells[(key, month)] = (amount.group(1) if amount else None, text)
    return cells
