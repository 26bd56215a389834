"""The "Kendt pr." day on Overblik, Forbrug (and a cell's page) and Priser (and its price
exceptions) in headless Chromium at 1440×900 and 390×844: a day typed the Danish way is kept in the
address, the page says what it shows and from which log position, and its figures are the
endpoint's answer as known at the same instant. The fixture recorded the whole demo today: known
today, everything is; known yesterday, nothing was."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from application.service.caseledger import copenhagen_today
from tests.api.dashboard.support import DemoServer, log_in, screenshot
from tests.api.dashboard.test_browser import BENCHMARK_ROWS_JS, SPENDING_CELLS_JS, SUPPLIER_ROWS_JS

pytestmark = pytest.mark.browser

EXCEPTION_ROWS_JS = "rows => rows.map(r => [r.dataset.referral, r.dataset.type])"
FIELDS = ("agreements", "min", "median", "max", "list_rates", "list_min", "list_median", "list_max")


@pytest.fixture(params=[0, 1], ids=["today", "yesterday"])
def day(request: pytest.FixtureRequest) -> date:
    """The "Kendt pr." day: today, when the demo was recorded, or the day before, when none of it was."""
    return copenhagen_today() - timedelta(days=request.param)


def comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (row["intervention"], row["unit"], *(str(row[f]) if row[f] is not None else "–" for f in FIELDS))
        for row in rows
    ]


def stated_basis(sized: Any, day: date, name: str) -> tuple[str | None, str]:
    """The log position and instant the page states, checked to be the end of ``day`` and said in
    words; a screenshot ``NAME-kendt-…``."""
    basis = sized.get_by_test_id("basis")
    position, instant = basis.get_attribute("data-position"), basis.get_attribute("data-known-at")
    shown_day = "i-dag" if day == copenhagen_today() else "i-gaar"
    screenshot(sized, f"{name}-kendt-{shown_day}-{sized.viewport_name}", full_page=False)
    assert f"Kendt pr. {day:%d.%m.%Y}" in basis.inner_text()
    assert instant is not None and instant.startswith(f"{day:%Y-%m-%d}T23:59:59.999999")
    return position, instant


def ask_known_on(sized: Any, user: str, path: str, day: date, name: str) -> tuple[str | None, str]:
    """Log in at ``path``, type ``day`` the Danish way as "Kendt pr.", send the form and reload: the
    day is kept in the address and the field; the log position and instant the page states."""
    log_in(sized, user, path)
    sized.fill("input[name=known_on]", f"{day:%d.%m.%Y}")
    with sized.expect_navigation():
        sized.locator("form.filters button[type=submit]").click()
    sized.reload()
    assert parse_qs(urlsplit(sized.url).query)["known_on"] == [f"{day:%d.%m.%Y}"]
    assert sized.input_value("input[name=known_on]") == f"{day:%d.%m.%Y}"
    return stated_basis(sized, day, name)


def test_priser_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, day: date
) -> None:
    position, instant = ask_known_on(sized, demo_server.reporter, "/dashboard/priser", day, "priser")
    shown = sized.locator("#benchmarks tbody tr").evaluate_all(BENCHMARK_ROWS_JS)
    exceptions = sized.locator("#exceptions tbody tr").evaluate_all(EXCEPTION_ROWS_JS)
    exceptions_position = sized.locator("#exceptions").get_attribute("data-position")
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/price-benchmarks", params={"known_at": instant})
        live = api.get("/reports/price-benchmarks")
        exceptions_then = api.get("/reports/price-exceptions", params={"known_at": instant}).json()
        exceptions_now = api.get("/reports/price-exceptions").json()

    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    assert comparable(shown) == comparable(answer.json())
    assert exceptions == [[i["referral_id"], i["type"]] for i in exceptions_then["items"]]
    assert exceptions_position == position
    assert f"som de var kendt pr. {day:%d.%m.%Y}" in sized.locator("main").inner_text()
    assert exceptions_now["items"] and live.json()
    if day == copenhagen_today():
        assert position == live.headers["Caseledger-Position"]
        assert comparable(shown) == comparable(live.json()) and shown and exceptions
    else:
        assert position == "0" and shown == [] and exceptions == []


def test_overblik_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, day: date
) -> None:
    position, instant = ask_known_on(sized, demo_server.reporter, "/dashboard/overblik", day, "overblik")
    shown = sized.locator("#suppliers tbody tr").evaluate_all(SUPPLIER_ROWS_JS)
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/suppliers", params={"known_at": instant})

    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    expected = sorted((row["supplier_id"], row["committed_total"]) for row in answer.json())
    assert sorted((row["id"], row["amount"]) for row in shown) == expected
    assert bool(shown) == (day == copenhagen_today())


def test_forbrug_known_on_a_day_is_the_apis_known_at_answer(
    sized: Any, demo_server: DemoServer, day: date
) -> None:
    path = "/dashboard/forbrug?by=supplier"
    position, instant = ask_known_on(sized, demo_server.reporter, path, day, "forbrug")
    asked = parse_qs(urlsplit(sized.url).query)
    cells = sized.locator("#spending tbody tr").evaluate_all(SPENDING_CELLS_JS)
    params = {"from": asked["from"][0], "to": asked["to"][0], "by": "supplier", "known_at": instant}
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/spending", params=params).json()

    assert asked["by"] == ["supplier"]
    assert str(answer["basis"]["position"]) == position
    expected = sorted((row["key"], row["month"], row["amount"]) for row in answer["rows"])
    assert sorted((cell["key"], cell["month"], cell["amount"]) for cell in cells) == expected
    assert bool(cells) == (day == copenhagen_today())


def test_a_cells_page_known_on_a_day_is_the_apis_known_at_lineage(
    sized: Any, demo_server: DemoServer, day: date
) -> None:
    month = f"{copenhagen_today():%Y-%m}"
    log_in(sized, demo_server.reporter, f"/dashboard/forbrug?by=&known_on={day:%d.%m.%Y}")
    if day == copenhagen_today():
        # From Forbrug known on the day, a click on this month's total carries the day along.
        column = sized.locator("#spending thead th").evaluate_all(
            f"ths => ths.findIndex(th => th.dataset.month === '{month}')"
        )
        with sized.expect_navigation():
            sized.locator(f"#spending tbody td:nth-child({column + 1})").click()
    else:
        sized.goto(f"/dashboard/forbrug/celle?month={month}&by=&known_on={day:%d.%m.%Y}")
    position, instant = stated_basis(sized, day, "forbrug-celle")
    amount = sized.get_by_test_id("cell-amount").get_attribute("data-amount")
    ids = sized.locator("#lineage tbody tr").evaluate_all("rs => rs.map(r => r.dataset.referral)")
    back = sized.get_by_role("link", name="Tilbage til Forbrug").get_attribute("href")
    with demo_server.api(demo_server.reporter) as api:
        answer = api.get("/reports/spending/lineage", params={"month": month, "known_at": instant})

    assert parse_qs(urlsplit(sized.url).query)["known_on"] in ([day.isoformat()], [f"{day:%d.%m.%Y}"])
    assert answer.status_code == 200 and answer.headers["Caseledger-Position"] == position
    assert amount == answer.json()["amount"]
    assert ids == [r["referral_id"] for r in answer.json()["referrals"]][:100]
    assert bool(ids) == (day == copenhagen_today())
    assert back is not None and f"known_on={day.isoformat()}" in back
