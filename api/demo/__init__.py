"""The demo municipality (Odense, 461): ``load_demo`` fills a store through the CaseLedger commands.

Used by ``caseledger serve --demo`` and ``caseledger demo``, the tests and the benchmarks.
"""

from api.demo.generator import DemoSummary, load_demo

__all__ = ["DemoSummary", "load_demo"]
