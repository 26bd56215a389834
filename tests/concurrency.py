"""Running a piece of test code in several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(target: Callable[[], object], count: int) -> None:
    """Start ``count`` threads running ``target`` and wait for all of them to finish."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
