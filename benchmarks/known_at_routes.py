"""The report routes that took known_at last (practice, price exceptions, price lists, lineage):
live, and as known at half the log once its scratch store is built.

    CASELEDGER_DATABASE_URL=sqlite:///bench/demo.sqlite caseledger demo
    python -m benchmarks.known_at_routes sqlite:///bench/demo.sqlite

Serves ``create_app`` on an existing store (the master key from ``CASELEDGER_MASTER_KEY``, as
``caseledger demo`` had it) in an in-process client with a new admin token, times the first read
known at ``head // 2`` (the scratch build), then the median of 20 reads of each route live and
known at that position. Prints one line per route; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

READS = 20


def main(url: str) -> None:
    with TestClient(create_app(Settings(database_url=url))) as client:
        secret = client.app.state.tokens.create(role="admin", municipality="*", name=None).secret  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {secret}"
        head = int(client.get("/readyz").json()["storage"]["last_position"])
        rows = client.get("/reports/spending", params={"min_position": head}).json()["rows"]
        busiest = max(rows, key=lambda row: float(row["amount"]))["month"]
        routes: list[tuple[str, dict[str, Any]]] = [
            ("/reports/practice", {"from": "2026-01", "to": "2026-12", "by": "month"}),
            ("/reports/price-exceptions", {}),
            ("/reports/price-lists", {}),
            ("/reports/spending/lineage", {"month": busiest}),
        ]

        def median_ms(path: str, params: dict[str, Any]) -> float:
            spent = []
            for _ in range(READS):
                started = time.perf_counter()
                response = client.get(path, params=params)
                spent.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            return statistics.median(spent)

        started = time.perf_counter()
        client.get("/reports/spending", params={"known_at_position": head // 2}).raise_for_status()
        print(
            f"head {head}; first read known at {head // 2} (scratch build): {(time.perf_counter() - started) * 1000:.0f} ms"
        )
        for path, params in routes:
            live = median_ms(path, params)
            past = median_ms(path, {**params, "known_at_position": head // 2})
            print(
                f"{path} {params}: live {live:.1f} ms, known at {head // 2} {past:.1f} ms (medians of {READS})"
            )


if __name__ == "__main__":
    main(sys.argv[1])
