"""The "Kendt pr." day on Overblik, Forbrug and Priser in headless Chromium at 1440×900 and
390×844: a day typed the Danish way is kept in the address, the page says what it shows and from
which log position, and its figures are the endpoint's answer as known at the same instant."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from application.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_browser import BENCHMARK_ROWS_JS, SPENDING_CELLS_JS, SUPPLIER_ROWS_JS

pytestmark = pytest.mark.browser

FIELDS = ("agreements", "min", "median", "max", "list_rates", "list_min", "list_median", "list_max")


def comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (row["intervention"], row["unit"], *(str(row[f]) if row[f] is not None else "–" for f in FIELDS))
        for row in rows
    ]


def ask_known_on(
    sized: Any, user: str, path: str, day: date, submit: str
) -> tuple[Any, str | None, str | None]:
    """Log in at ``path``, type ``day`` the Danish way as "Kendt pr.", send the form and reload:
    the page's basis and the log position and instant it states."""
    log_in(sized, user, path)
    sized.fill("input[name=known_on]", f"{day:%d.%m.%Y}")
    with sized.expect_navigation():
        sized.locator(submit).click()
    sized.reload()
    basis = sized.get_by_test_id("basis")
    return basis, basis.get_attribute("data-position"), basis.get_attribute("data-known-at")


@pytest.mark.parametrize("days_ago", [0, 1])
def test_priser_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, days_ago: int
) -> None:
    day = copenhagen_today() - timedelta(days=days_ago)
    basis, position, instant = ask_known_on(
        sized, demo_server.reporter, "/dashboard/priser", day, "form.filters button[type=submit]"
    )
    shown = sized.locator("#benchmarks tbody tr").evaluate_all(BENCHMARK_ROWS_JS)
    screenshot(sized, f"priser-kendt-{days_ago}-{sized.viewport_name}", full_page=False)
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/price-benchmarks", params={"known_at": instant})
        live = api.get("/reports/price-benchmarks")

    assert parse_qs(urlsplit(sized.url).query)["known_on"] == [f"{day:%d.%m.%Y}"]
    assert sized.input_value("input[name=known_on]") == f"{day:%d.%m.%Y}"
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert instant is not None and instant.startswith(f"{day:%Y-%m-%d}T23:59:59.999999")
    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    assert comparable(shown) == comparable(answer.json())
    # The fixture recorded the whole demo today: known yesterday, nothing was; known today, all.
    if days_ago == 0:
        assert position == live.headers["Caseledger-Position"] and comparable(shown) == comparable(
            live.json()
        )
        assert shown
    else:
        assert position == "0" and shown == [] and live.json()


@pytest.mark.parametrize("days_ago", [0, 1])
def test_overblik_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, days_ago: int
) -> None:
    day = copenhagen_today() - timedelta(days=days_ago)
    basis, position, instant = ask_known_on(
        sized, demo_server.reporter, "/dashboard/overblik", day, "form.filters button[type=submit]"
    )
    shown = sized.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)
    screenshot(sized, f"overblik-kendt-{days_ago}-{sized.viewport_name}", full_page=False)
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/suppliers", params={"known_at": instant})

    assert parse_qs(urlsplit(sized.url).query)["known_on"] == [f"{day:%d.%m.%Y}"]
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    expected = sorted((row["supplier_id"], row["committed_total"]) for row in answer.json())
    assert sorted((row["id"], row["amount"]) for row in shown) == expected
    assert bool(shown) == (days_ago == 0), "the demo was recorded today: yesterday nothing was known"


@pytest.mark.parametrize("days_ago", [0, 1])
def test_forbrug_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, days_ago: int
) -> None:
    day = copenhagen_today() - timedelta(days=days_ago)
    basis, position, instant = ask_known_on(
        sized,
        demo_server.reporter,
        "/dashboard/forbrug?by=supplier",
        day,
        "#spending-form button[type=submit]",
    )
    asked = parse_qs(urlsplit(sized.url).query)
    cells = sized.locator("#spending tbody tr").evaluate_all(SPENDING_CELLS_JS)
    screenshot(sized, f"forbrug-kendt-{days_ago}-{sized.viewport_name}", full_page=False)
    params = {"from": asked["from"][0], "to": asked["to"][0], "by": "supplier", "known_at": instant}
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/spending", params=params).json()

    assert asked["known_on"] == [f"{day:%d.%m.%Y}"] and asked["by"] == ["supplier"]
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert str(answer["basis"]["position"]) == position
    expected = sorted((row["key"], row["month"], row["amount"]) for row in answer["rows"])
    assert sorted((cell["key"], cell["month"], cell["amount"]) for cell in cells) == expected
    assert bool(cells) == (days_ago == 0), "the demo was recorded today: yesterday nothing was known"
