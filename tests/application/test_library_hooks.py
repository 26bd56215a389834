"""The private parts of eventsourcing caseledger relies on, pinned: an upgrade that changes them
fails here, by name, instead of somewhere in a save (docs/architecture.md says why each is used)."""

from __future__ import annotations

import ast
import inspect
import textwrap

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder


def _calls_in_order(function: object) -> list[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    return [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]


def test_the_librarys_save_is_record_take_snapshots_notify_as_record_events_repeats_it() -> None:
    calls = [c for c in _calls_in_order(Application.save) if c in {"_record", "_take_snapshots", "_notify"}]
    assert calls == ["_record", "_take_snapshots", "_notify"]


def test_the_postgres_recorder_methods_the_keyed_recorder_overrides_or_calls_exist() -> None:
    for name, parameters in (
        ("_insert_stored_events", ["self", "curs", "stored_events", "kwargs"]),
        ("_lock_table", ["self", "curs"]),
        ("_notify_channel", ["self", "curs"]),
    ):
        method = getattr(PostgresApplicationRecorder, name)
        assert list(inspect.signature(method).parameters) == parameters, name
