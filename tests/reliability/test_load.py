"""A bounded run of concurrent mixed traffic: only documented answers, memory flat, and the counts
in every projection equal to the counts in the event store at the end.

CI runs it for a few seconds; ``CASELEDGER_LONG_TESTS=1`` for a minute; ``benchmarks/soak.py``
for as many minutes as you like (and prints the figures).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.conftest import LONG, scaled, started_server
from tests.reliability.load import projection_counts_match_the_store, run_load

pytestmark = pytest.mark.slow


def test_mixed_traffic_gets_only_documented_answers_and_projections_count_the_store(
    db_url: str, tmp_path: Path
) -> None:
    server, token = started_server(db_url, tmp_path)
    try:
        report = run_load(
            server.base_url, token, seconds=scaled(12, 60), clients=scaled(6, 10), rss=server.rss_kib
        )
        assert not report.unexpected, report.unexpected[:10]
        assert set(report.statuses) <= {200, 201, 409, 412}, report.statuses
        assert report.statuses[412] > 0 and report.statuses[200] > 0
        assert report.requests > 100
        if LONG:  # a short run is mostly warm-up; memory is judged on the long one
            assert report.memory_growth_kib() < 30 * 1024, report.rss_kib
        counts = projection_counts_match_the_store(server.base_url, token)
        assert counts["projections"] == counts["store"]
        assert counts["store"]["referrals_active"] > 0 and counts["store"]["referrals_closed"] > 0
    finally:
        server.stop()
