"""Soak: minutes of concurrent mixed traffic against the API as a real process, then the checks.

    python -m benchmarks.soak --minutes 5 --clients 10
    python -m benchmarks.soak --database-url "postgresql://postgres@127.0.0.1:5432/test?schema=soak" --minutes 5

Without ``--database-url`` it uses a fresh SQLite file under a temporary directory. It prints the
request count, answers by status, latency percentiles and the server's memory (RSS) over time, and
exits non-zero if any answer was other than a result or a documented refusal (409/412), if the
server's memory grew by more than ``--max-growth-mib`` after the warm-up, or if any projection's
count differs from the event store's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks import arguments, use_benchmark_master_key
from tests.reliability.load import projection_counts_match_the_store, run_load
from tests.reliability.server import ApiServer, admin_token


def main() -> int:
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--max-growth-mib", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="caseledger-soak-"))
    url = args.database_url or f"sqlite:///{workdir / 'soak.sqlite'}"
    server = ApiServer(url, workdir / "api.log")
    token = admin_token(url)
    server.start()
    try:
        report = run_load(
            server.base_url,
            token,
            seconds=args.minutes * 60,
            clients=args.clients,
            rss=server.rss_kib,
            seed=args.seed,
        )
        counts = projection_counts_match_the_store(server.base_url, token)
    finally:
        server.stop()

    growth = report.memory_growth_kib() / 1024
    print(f"database      {url}")
    print(
        f"requests      {report.requests} in {report.seconds:.0f} s ({report.requests / report.seconds:.0f}/s)"
    )
    print(f"answers       {dict(sorted(report.statuses.items(), key=lambda kv: kv[0] or 0))}")
    print(f"latency       p50 {report.latency_ms(0.5):.0f} ms, p99 {report.latency_ms(0.99):.0f} ms")
    rss = report.rss_kib
    marks = [rss[int(i * (len(rss) - 1) / 4)] for i in range(5)]
    print("memory (RSS)  " + ", ".join(f"{t:.0f}s {kib / 1024:.0f} MiB" for t, kib in marks))
    print(f"growth        {growth:.1f} MiB after warm-up (limit {args.max_growth_mib} MiB)")
    print(f"store         {counts['store']}")
    print(f"projections   {counts['projections']}")
    failures = []
    if report.unexpected:
        failures.append(f"{len(report.unexpected)} unexpected answers, e.g. {report.unexpected[:3]}")
    if growth > args.max_growth_mib:
        failures.append(f"memory grew {growth:.1f} MiB")
    if counts["store"] != counts["projections"]:
        failures.append("projection counts differ from the store")
    for failure in failures:
        print(f"FAIL  {failure}")
    print("OK" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
