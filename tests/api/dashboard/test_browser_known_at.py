"""The "Kendt pr." day on Overblik, Forbrug (and a cell's page) and Priser (and its price
exceptions) in headless Chromium at 1440×900 and 390×844: a day typed the Danish way is kept in the
address, the page says what it shows and from which log position, and its figures are the
endpoint's answer as known at the same instant."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from application.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_browser import BENCHMARK_ROWS_JS, SPENDING_CELLS_JS, SUPPLIER_ROWS_JS

pytestmark = pytest.mark.browser

EXCEPTION_ROWS_JS = "rows => rows.map(r => [r.dataset.referral, r.dataset.type])"
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
    exceptions = sized.locator("#exceptions tbody tr").evaluate_all(EXCEPTION_ROWS_JS)
    exceptions_position = sized.locator("#exceptions").get_attribute("data-position")
    screenshot(sized, f"priser-kendt-{days_ago}-{sized.viewport_name}", full_page=False)
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/price-benchmarks", params={"known_at": instant})
        live = api.get("/reports/price-benchmarks")
        exceptions_then = api.get("/reports/price-exceptions", params={"known_at": instant}).json()
        exceptions_now = api.get("/reports/price-exceptions").json()

    assert parse_qs(urlsplit(sized.url).query)["known_on"] == [f"{day:%d.%m.%Y}"]
    assert sized.input_value("input[name=known_on]") == f"{day:%d.%m.%Y}"
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert instant is not None and instant.startswith(f"{day:%Y-%m-%d}T23:59:59.999999")
    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    assert comparable(shown) == comparable(answer.json())
    assert exceptions == [[i["referral_id"], i["type"]] for i in exceptions_then["items"]]
    assert exceptions_position == position
    assert bool(exceptions) == (days_ago == 0) and exceptions_now["items"]
    assert f"som de var kendt pr. {day:%d.%m.%Y}" in sized.locator("main").inner_text()
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


@pytest.mark.parametrize("days_ago", [0, 1])
def test_a_cells_page_known_on_a_day_is_the_apis_known_at_lineage(
    sized: Any, demo_server: DemoServer, days_ago: int
) -> None:
    day = copenhagen_today() - timedelta(days=days_ago)
    month = f"{copenhagen_today():%Y-%m}"
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?by=&known_on={day:%d.%m.%Y}")
    if days_ago == 0:
        # From Forbrug known on the day, a click on this month's total carries the day along.
        column = sized.locator("#spending thead th").evaluate_all(
            f"ths => ths.findIndex(th => th.dataset.month === '{month}')"
        )
        with sized.expect_navigation():
            sized.locator(f"#spending tbody td:nth-child({column + 1})").click()
    else:
        sized.goto(f"/dashboard/forbrug/celle?month={month}&by=&known_on={day:%d.%m.%Y}")
    basis = sized.get_by_test_id("basis")
    position, instant = basis.get_attribute("data-position"), basis.get_attribute("data-known-at")
    amount = sized.get_by_test_id("cell-amount").get_attribute("data-amount")
    ids = sized.locator("#lineage tbody tr").evaluate_all("rs => rs.map(r => r.dataset.referral)")
    screenshot(sized, f"forbrug-celle-kendt-{days_ago}-{sized.viewport_name}", full_page=False)
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/spending/lineage", params={"month": month, "known_at": instant})

    assert parse_qs(urlsplit(sized.url).query)["known_on"] in ([day.isoformat()], [f"{day:%d.%m.%Y}"])
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert instant is not None and instant.startswith(f"{day:%Y-%m-%d}T23:59:59.999999")
    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    assert amount == answer.json()["amount"]
    assert ids == [r["referral_id"] for r in answer.json()["referrals"]][:100]
    assert bool(ids) == (days_ago == 0), "the demo was recorded today: yesterday nothing was known"
    back = sized.get_by_role("link", name="Tilbage til Forbrug").get_attribute("href")
    assert back is not None and f"known_on={day.isoformat()}" in back
