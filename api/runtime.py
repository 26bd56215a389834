"""How caseledger's processes set up the Python runtime they run in."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (20_000, 20, 20)
"""CPython's cyclic garbage collector, by default, collects its youngest generation every 700 net
allocations of container objects, and the older ones every 10 of those. A batch of events
allocates millions of dicts, events and rows that reference counting alone frees, so most of those
collections find nothing to collect. At these thresholds the projection fold spent 0.095–0.099 →
0.073–0.076 ms of CPU per event and the ``POST /events`` batch path 0.224–0.227 → 0.204–0.212 ms
(``benchmarks.cpu_per_event``). Cyclic garbage still goes, a little later."""


def tune_garbage_collector() -> None:
    """Collect less often, and never walk what the process has built so far (the imported modules,
    the app, the pools): ``gc.freeze`` moves it out of the collector's sight for good."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
