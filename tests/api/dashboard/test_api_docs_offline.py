"""/docs renders the API's operations with every request outside the server blocked; no /redoc."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.dashboard.support import DemoServer, screenshot

pytestmark = pytest.mark.browser


def _block_other_hosts(page: Any, demo_server: DemoServer) -> list[str]:
    """Abort every request that does not go to the server under test; return their URLs."""
    blocked: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(demo_server.base_url) or url.startswith("data:"):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def test_swagger_ui_lists_the_operations_offline(page: Any, demo_server: DemoServer) -> None:
    blocked = _block_other_hosts(page, demo_server)
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "nodes => nodes.map(n => n.textContent)")
    assert any("/referrals/{referral_id}" in path for path in paths), paths
    assert any("/reference/municipalities" in path for path in paths), paths
    assert blocked == []
    screenshot(page, "api-docs-swagger")


def test_there_is_no_redoc_page(page: Any, demo_server: DemoServer) -> None:
    """ReDoc loads its logo from its own CDN even when its script is served locally, so /docs is the
    one documentation page."""
    response = page.request.get("/redoc")
    assert response.status == 404
