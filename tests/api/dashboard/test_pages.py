"""The dashboard's pages over HTTP (no browser), on SQLite and PostgreSQL: logging in and out, the
cookie's flags, which role opens which page, municipality scope, and the numbers on a small ledger
(docs/domain.md's example) against the report endpoints."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.api import bodies
from tests.api.dashboard.support import spending_cells
from tests.tokens import new_token, token_store

COOKIE = "caseledger_dashboard"


def lifecycle(client: TestClient) -> tuple[str, str, int]:
    """docs/domain.md's example: a supplier with prices and one active hourly referral in 461."""
    supplier_id, referral_id, position = bodies.agreed(client)
    client.get("/reports/spending", params={"min_position": position})
    return supplier_id, referral_id, position


def logged_in(client: TestClient, secret: str) -> TestClient:
    """A second client on the same app, logged in to the dashboard with ``secret`` (no bearer header)."""
    browser = TestClient(client.app, follow_redirects=False)
    response = browser.post("/dashboard/login", data={"token": secret})
    assert response.status_code == 303, response.text
    return browser


def browse(client: TestClient, role: str = "admin", municipality: str = "*") -> tuple[TestClient, str]:
    """Logged in to the dashboard with a new token of ``role`` for ``municipality``."""
    secret = new_token(client, role, municipality)
    return logged_in(client, secret), secret


def test_the_login_sets_a_strict_http_only_cookie_and_goes_to_the_first_page(client: TestClient) -> None:
    secret = new_token(client, "reporter", "461")
    browser = TestClient(client.app, follow_redirects=False)

    response = browser.post("/dashboard/login", data={"token": secret})

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/overblik"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={secret};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http, and CASELEDGER_COOKIE_SECURE unset
    assert browser.get("/dashboard/overblik").status_code == 200


def test_the_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'c.sqlite'}", cookie_secure=True)
    with TestClient(create_app(settings), follow_redirects=False) as browser:
        secret = token_store(browser).create(role="admin", municipality="*").secret
        response = browser.post("/dashboard/login", data={"token": secret})

    assert "Secure" in response.headers["set-cookie"]


def test_without_a_cookie_pages_redirect_to_the_login_with_the_way_back(client: TestClient) -> None:
    browser = TestClient(client.app, follow_redirects=False)
    # The API's bearer header does not open the pages: they want the login cookie.
    browser.headers["Authorization"] = client.headers["Authorization"]

    response = browser.get("/dashboard/forbrug", params={"by": "supplier"})
    form = browser.get(response.headers["location"])

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fforbrug%3Fby%3Dsupplier"
    assert form.status_code == 200
    assert 'name="next" value="/dashboard/forbrug?by=supplier"' in form.text
    assert browser.get("/").headers["location"] == "/dashboard/"


def test_the_cookie_does_not_open_the_json_api(client: TestClient) -> None:
    browser, _ = browse(client)

    response = browser.get("/reports/spending")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_wrong_or_revoked_token_does_not_log_in(client: TestClient) -> None:
    issued = token_store(client).create(role="auditor", municipality="461")
    browser = logged_in(client, issued.secret)
    token_store(client).revoke(issued.token.name)

    wrong = browser.post("/dashboard/login", data={"token": "no-such-token"})
    after_revocation = browser.get("/dashboard/overblik")

    assert wrong.status_code == 401
    assert "Ukendt eller tilbagekaldt token." in wrong.text
    assert "set-cookie" not in wrong.headers
    assert after_revocation.status_code == 303
    assert after_revocation.headers["location"].startswith("/dashboard/login")


def test_a_role_without_any_page_cannot_log_in(client: TestClient) -> None:
    # A caseworker opens Match (a referral's candidates); the case system opens no page.
    secret = new_token(client, "case_system", "461")
    browser = TestClient(client.app, follow_redirects=False)

    response = browser.post("/dashboard/login", data={"token": secret})

    assert response.status_code == 403
    assert "sagssystem har ikke adgang" in response.text
    assert "set-cookie" not in response.headers


def test_a_login_posted_from_another_site_is_refused(client: TestClient) -> None:
    secret = new_token(client)
    browser = TestClient(client.app, follow_redirects=False)

    response = browser.post(
        "/dashboard/login", data={"token": secret}, headers={"Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_after_login_only_dashboard_paths_are_followed(client: TestClient) -> None:
    secret = new_token(client)
    browser = TestClient(client.app, follow_redirects=False)

    inside = browser.post("/dashboard/login", data={"token": secret, "next": "/dashboard/priser?unit=day"})
    outside = browser.post("/dashboard/login", data={"token": secret, "next": "//evil.example/dashboard/"})

    assert inside.headers["location"] == "/dashboard/priser?unit=day"
    assert outside.headers["location"] == "/dashboard/overblik"


def test_logging_out_clears_the_cookie(client: TestClient) -> None:
    browser, _ = browse(client)

    response = browser.post("/dashboard/logout")

    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/login"
    assert re.match(rf'{COOKIE}=""; .*Max-Age=0', response.headers["set-cookie"])
    assert browser.get("/dashboard/priser").status_code == 303


def test_a_reporter_sees_the_report_pages_but_not_the_trail(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    browser, _ = browse(client, "reporter", "461")

    overview = browser.get("/dashboard/overblik")
    trail = browser.get("/dashboard/revisionsspor", params={"referral": referral_id})

    assert overview.status_code == 200
    assert [m for m in re.findall(r'<a href="/dashboard/(\w+)"', overview.text)] == [
        "overblik",
        "forbrug",
        "priser",
        "praksis",
    ]
    assert trail.status_code == 403
    assert "giver ikke adgang til Revisionsspor" in trail.text
    assert referral_id not in trail.text
    # A price list's tooltip counts its prices (``items`` is a key, not dict.items).
    assert re.search(r'title="\d+ priser forhandlet \d\d\.\d\d\.\d{4}', overview.text)
    assert "built-in method" not in overview.text


def test_a_scoped_token_sees_only_its_municipality(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    browser, _ = browse(client, "auditor", "101")

    other = browser.get("/dashboard/forbrug", params={"municipality": "461"})
    own = browser.get("/dashboard/overblik")
    trail = browser.get("/dashboard/revisionsspor", params={"referral": referral_id})

    assert other.status_code == 403
    assert "gælder kommune 101, ikke kommune 461" in other.text
    assert own.status_code == 200
    assert 'Viser <strong id="shown-count">0</strong>' in own.text
    assert trail.status_code == 404  # another municipality's referral, as if it did not exist
    assert "Ingen indstilling med id" in trail.text


def test_the_pages_show_the_report_endpoints_numbers(client: TestClient) -> None:
    supplier_id, referral_id, _ = lifecycle(client)
    browser, _ = browse(client, "auditor", "461")

    overview = browser.get("/dashboard/overblik").text
    spending = browser.get("/dashboard/forbrug", params={"from": "2026-01", "to": "2026-03"}).text
    prices = browser.get("/dashboard/priser", params={"intervention": "family-treatment"}).text
    trail = browser.get("/dashboard/revisionsspor", params={"referral": referral_id}).text

    assert f'data-supplier="{supplier_id}"' in overview
    assert 'data-amount="27685.72" class="num committed">27.685,72\u00a0kr.</td>' in overview
    for month, amount, text in (
        ("2026-01", "6192.86", "6.192,86\u00a0kr."),
        ("2026-02", "10200.00", "10.200,00\u00a0kr."),
        ("2026-03", "11292.86", "11.292,86\u00a0kr."),
    ):
        assert [cell for (_, m), cell in spending_cells(spending).items() if m == month] == [(amount, text)]
    assert 'data-testid="total" data-amount="27685.72">27.685,72\u00a0kr.' in spending
    assert (
        '<td class="num" data-field="median" data-value="850.00" data-amount="850.00">850,00\u00a0kr.</td>'
        in prices
    )
    assert 'data-ok="true"' in trail
    assert [t for t in re.findall(r'data-type="([\w.]+)"', trail)] == [
        "referral.referred",
        "referral.matched",
        "referral.price_agreed",
    ]


def test_the_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not [path for path in paths if path.startswith("/dashboard") or path == "/"]


def test_pages_forbid_caching_framing_and_inline_scripts(client: TestClient) -> None:
    browser, _ = browse(client)

    response = browser.get("/dashboard/overblik")
    script = browser.get("/dashboard/static/dashboard.js")

    assert response.headers["cache-control"] == "no-store"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in response.text
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert browser.get("/dashboard/static/../app.py").status_code == 404


def test_the_trail_page_records_each_read_and_refusal_in_the_access_log(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    auditor_secret = new_token(client, "auditor", "461", name="dashboard-auditor")
    reporter_secret = new_token(client, "reporter", "461", name="dashboard-reporter")
    auditor, reporter = logged_in(client, auditor_secret), logged_in(client, reporter_secret)

    assert auditor.get("/dashboard/revisionsspor", params={"status": "active"}).status_code == 200
    assert auditor.get("/dashboard/revisionsspor", params={"referral": referral_id}).status_code == 200
    assert reporter.get("/dashboard/revisionsspor", params={"referral": referral_id}).status_code == 403
    auditor.get("/dashboard/overblik")  # aggregates only: not recorded

    response = client.get("/audit/access-log", params={"action": "dashboard.revisionsspor"})
    assert response.status_code == 200, response.text
    log = response.json()
    seen = [
        (e["token"], e["role"], e["referral_id"], e["query"], e["status"], e["format"]) for e in log["items"]
    ]
    assert sorted(seen, key=str) == sorted(
        [
            ("dashboard-auditor", "auditor", None, {"status": "active", "page": "1"}, 200, "html"),
            ("dashboard-auditor", "auditor", referral_id, None, 200, "html"),
            ("dashboard-reporter", "reporter", referral_id, None, 403, "html"),
        ],
        key=str,
    )


def test_an_auditor_starts_on_revisionsspor_and_a_reporter_on_overblik(client: TestClient) -> None:
    secret = new_token(client, "auditor", "461")
    browser = TestClient(client.app, follow_redirects=False)

    response = browser.post("/dashboard/login", data={"token": secret})
    start = browser.get("/dashboard/")

    assert response.headers["location"] == "/dashboard/revisionsspor"
    assert start.headers["location"] == "/dashboard/revisionsspor"
    reporter = TestClient(client.app, follow_redirects=False)
    reporter.post("/dashboard/login", data={"token": new_token(client, "reporter", "461")})
    assert reporter.get("/dashboard/").headers["location"] == "/dashboard/overblik"


def test_an_unknown_municipality_is_answered_with_a_danish_message(client: TestClient) -> None:
    browser, _ = browse(client, "admin", "*")

    for slug in ("overblik", "forbrug", "priser"):
        for asked in ("999", "46", "abc"):
            response = browser.get(f"/dashboard/{slug}", params={"municipality": asked})

            assert response.status_code == 404, (slug, asked)
            assert f"Der findes ingen kommune med koden {asked}." in response.text
            assert "461 for Odense Kommune" in response.text
    assert browser.get("/dashboard/overblik", params={"municipality": "461"}).status_code == 200
    assert browser.get("/dashboard/overblik", params={"municipality": ""}).status_code == 200


def test_the_login_page_shows_no_command_line(client: TestClient) -> None:
    page = TestClient(client.app).get("/dashboard/login").text

    assert "caseledger tokens" not in page and "<code>" not in page
    assert "Log ind med dit API-token" in page


# Words the pages no longer use: the domain's "indstilling" is no "henvisning", "matchet" is an
# anglicism, and "forpligtet forbrug" mixed spending with commitments; a rate is a "takst".
OLD_WORDS = re.compile(r"henvis|matchet|forpligtet|timepris|dagspris", re.IGNORECASE)


def visible_text(page: str) -> str:
    """The page's text and attribute values a reader sees (titles, labels), without its markup."""
    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    attributes = " ".join(re.findall(r'(?:title|aria-label|placeholder)="([^"]*)"', shown))
    return re.sub(r"<[^>]+>", " ", shown) + " " + attributes


def test_the_pages_use_the_municipal_words_and_link_the_glossary(client: TestClient) -> None:
    _, referral_id, _ = lifecycle(client)
    browser, _ = browse(client, "auditor", "461")
    paths = [
        "/dashboard/overblik",
        "/dashboard/forbrug?from=2026-01&to=2026-03&by=supplier",
        "/dashboard/priser",
        "/dashboard/revisionsspor",
        f"/dashboard/revisionsspor?referral={referral_id}",
        "/dashboard/ordliste",
    ]

    for path in paths:
        page = browser.get(path).text
        text = visible_text(page)

        assert OLD_WORDS.findall(text) == [], path
        assert '<a class="glossary-link" href="/dashboard/ordliste"' in page, path
    trail = visible_text(browser.get(f"/dashboard/revisionsspor?referral={referral_id}").text)
    assert "Leverandør valgt" in trail and "Takst aftalt" in trail and "Timetakst" in trail
    listing = visible_text(browser.get("/dashboard/revisionsspor").text)
    assert "Seneste indstillinger" in listing and "aktiv" in listing


def test_the_glossary_explains_the_words_without_a_login(client: TestClient) -> None:
    page = TestClient(client.app).get("/dashboard/ordliste")

    assert page.status_code == 200
    terms = re.findall(r"<dt id=\"[\w-]+\">([^<]+)</dt>", page.text)
    for term in ("Indstilling", "Indsats", "Leverandør", "Takst", "Bevilget forbrug", "Disponeret", "Status"):
        assert term in terms
    assert "leverandør valgt" in page.text


def test_the_month_pickers_work_without_javascript(client: TestClient) -> None:
    lifecycle(client)
    browser, _ = browse(client, "reporter", "461")

    picked = browser.get(
        "/dashboard/forbrug",
        params={"from_month": "01", "from_year": "2026", "to_month": "03", "to_year": "2026"},
    ).text
    named = browser.get("/dashboard/forbrug", params={"from": "2026-01", "to": "2026-03"}).text

    assert 'data-testid="total" data-amount="27685.72"' in picked
    assert picked.split("<main>")[1] == named.split("<main>")[1]
    assert '<option value="01" selected>januar</option>' in picked
    assert '<option value="2026" selected>2026</option>' in picked
    assert 'type="month"' not in picked


def test_the_overview_reads_its_filter_from_the_address(client: TestClient) -> None:
    lifecycle(client)
    browser, _ = browse(client, "reporter", "461")

    page = browser.get("/dashboard/overblik", params={"q": "familiehuset", "old": "1"}).text

    assert 'name="q" value="familiehuset"' in page
    assert 'name="old" value="1" checked' in page
    assert 'href="/dashboard/overblik.xlsx?q=familiehuset&amp;old=1"' in page
