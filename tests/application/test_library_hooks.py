"""The private parts of eventsourcing caseledger relies on, pinned: an upgrade that renames, removes or
re-signs one fails here, by name, instead of somewhere in a save (docs/architecture.md says why each
is used and why no public extension point serves)."""

from __future__ import annotations

import ast
import inspect
import textwrap

from eventsourcing.application import Application
from eventsourcing.postgres import ConnectionPool as EventsourcingPool
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder

from application.storage.connections import RevivingPool
from application.storage.postgres import PostgresKeyedRecorder
from application.storage.sqlite import SQLiteKeyedRecorder


def _calls_in_order(function: object) -> list[str]:
    """The names of the methods ``function`` calls, in the order they appear in its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    calls = [
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    return [node.func.attr for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset))]  # type: ignore[attr-defined]


def _parameters(method: object) -> list[str]:
    return list(inspect.signature(method).parameters)  # type: ignore[arg-type]


def test_the_librarys_save_is_record_take_snapshots_notify_as_record_events_repeats_it() -> None:
    calls = [c for c in _calls_in_order(Application.save) if c in {"_record", "_take_snapshots", "_notify"}]
    assert calls == ["_record", "_take_snapshots", "_notify"]


def test_the_postgres_recorder_methods_the_keyed_recorder_overrides_or_calls_exist() -> None:
    for name, parameters in (
        ("_insert_events", ["self", "curs", "stored_events", "_"]),
        ("_insert_stored_events", ["self", "curs", "stored_events", "kwargs"]),
        ("_fetch_ids_after_insert_events", ["self", "curs", "stored_events", "_"]),
        ("_lock_table", ["self", "curs"]),
        ("_notify_channel", ["self", "curs"]),
    ):
        method = getattr(PostgresApplicationRecorder, name)
        assert _parameters(method) == parameters, name
        assert name in vars(PostgresKeyedRecorder) or name == "_lock_table", name


def test_the_postgres_insert_calls_the_overridden_steps_in_one_transaction_in_order() -> None:
    """Claims and citizen keys (``_insert_events``) before the events, the chain rows and links
    (``_fetch_ids_after_insert_events``) after them, all inside the library's one transaction."""
    insert = inspect.unwrap(PostgresApplicationRecorder.insert_events)
    steps = {"transaction", "_insert_events", "_insert_stored_events", "_fetch_ids_after_insert_events"}
    assert [c for c in _calls_in_order(insert) if c in steps] == [
        "transaction",
        "_insert_events",
        "_insert_stored_events",
        "_fetch_ids_after_insert_events",
    ]


def test_the_postgres_insert_is_retried_by_a_decorator_whose_undecorated_method_is_reachable() -> None:
    """``bounded_retry`` replaces the library's ten retries with its own window: it needs the
    undecorated ``insert_events`` (``functools.wraps``' ``__wrapped__``), or it would retry both."""
    wrapped = PostgresApplicationRecorder.insert_events
    assert hasattr(wrapped, "__wrapped__")
    assert not hasattr(wrapped.__wrapped__, "__wrapped__")


def test_the_sqlite_insert_is_one_transaction_around_the_overridden_insert_events() -> None:
    assert _parameters(SQLiteApplicationRecorder._insert_events) == ["self", "c", "stored_events", "_"]
    assert "_insert_events" in vars(SQLiteKeyedRecorder)
    calls = _calls_in_order(SQLiteApplicationRecorder.insert_events)
    assert [c for c in calls if c in {"transaction", "_insert_events"}] == ["transaction", "_insert_events"]


def test_the_postgres_datastore_builds_an_unopened_pool_of_its_own_class_with_a_kwargs_dict() -> None:
    """The keyed recorder adds libpq ``options`` to ``pool.kwargs`` and swaps the pool's class for
    ``RevivingPool``: both only hold while the datastore builds eventsourcing's pool, leaves it
    unopened until first use, and keeps its connection arguments in a dict."""
    datastore = PostgresDatastore(dbname="unused", host="127.0.0.1", port=1, user="unused", password="")
    try:
        assert type(datastore.pool) is EventsourcingPool
        assert datastore.pool.closed
        assert isinstance(datastore.pool.kwargs, dict)
    finally:
        datastore.close()


def test_the_reviving_pool_adds_behaviour_but_no_state_so_a_built_pool_may_take_its_class() -> None:
    assert issubclass(RevivingPool, EventsourcingPool)
    own = set(vars(RevivingPool)) - {"__module__", "__doc__", "__orig_bases__", "__parameters__"}
    assert own == {"getconn"}
    assert _parameters(EventsourcingPool.getconn) == _parameters(RevivingPool.getconn)
