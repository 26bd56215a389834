"""The garbage collector as caseledger's processes run with it (``api.runtime``): each entry point
tunes it, checked in a fresh interpreter so that this test process keeps CPython's defaults."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from api.runtime import GC_THRESHOLDS

SHOW_GC = "import gc, json; print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"


def _gc_after(code: str) -> tuple[tuple[int, ...], int]:
    printed = subprocess.run(
        [sys.executable, "-c", f"{code}\n{SHOW_GC}"], check=True, capture_output=True, text=True
    ).stdout
    thresholds, frozen = json.loads(printed.splitlines()[-1])
    return tuple(thresholds), frozen


def test_a_fresh_interpreter_has_cpythons_defaults() -> None:
    thresholds, frozen = _gc_after("import api.app, api.cli")
    assert thresholds != GC_THRESHOLDS
    assert frozen == 0


@pytest.mark.parametrize(
    "entry",
    [
        "from api.app import create_served_app\ncreate_served_app()",
        "import sys\nfrom api.cli import main\nsys.argv = ['caseledger', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass",
    ],
    ids=["API process of serve", "caseledger command"],
)
def test_every_entry_point_tunes_the_collector_and_freezes_what_it_built(entry: str) -> None:
    thresholds, frozen = _gc_after(entry)
    assert thresholds == GC_THRESHOLDS
    assert frozen > 10_000  # the imported modules and their functions, out of the collector's sight
