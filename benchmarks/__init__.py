"""Benchmark scripts: they measure and print, they never assert timings."""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys

SYNTHETIC_DATA_KEY = base64.b64encode(hashlib.sha256(b"caseledger benchmarks: synthetic data only").digest())
"""The master key of the benchmarks' own data sets (synthetic, no real person in them): fixed, so
that a data set built by one run opens in the next."""


def use_benchmark_master_key() -> None:
    """Give this process and the servers it starts a master key, unless one is set: PostgreSQL
    refuses to store personal fields without one."""
    if not (os.environ.get("CASELEDGER_MASTER_KEY") or os.environ.get("CASELEDGER_MASTER_KEY_FILE")):
        os.environ["CASELEDGER_MASTER_KEY"] = SYNTHETIC_DATA_KEY.decode()


def arguments(description: str | None) -> argparse.ArgumentParser:
    """The command line parser of a benchmark script, whose help is its module docstring as written."""
    return argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )


def uvicorn_command(port: int, *options: str, factory: str = "api.app:create_served_app") -> list[str]:
    """The command that serves the API made by ``factory`` on 127.0.0.1:``port`` with uvicorn
    (warnings only), plus ``options``."""
    application = [factory, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-m", "uvicorn", *application, "--log-level", "warning", *options]
