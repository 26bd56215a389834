"""On PostgreSQL every save inserts its unique keys — claims and new citizen data keys — in one
order (sorted), so that two saves sharing some never deadlock.

Each test has another session hold the first of the keys (as a save inserting them in that order
would), lets a save that names them in the opposite order run until it waits for that key, then has
the other session insert the rest: at once, since the waiting save has taken none of them. Inserted
in their own order, the save would have taken the others first and the two sessions would each
wait for the other (PostgreSQL then fails one of them: a batch answered 503 whole). The other
session is the one PostgreSQL would pick as the victim, so without the sorting these tests fail
with its deadlock error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from application.keys import ANY_SCOPE, event_key
from application.service import batch
from application.service.caseledger import CaseLedger
from application.service.context import WriteContext
from tests.api.test_personal_data import ANNA, file_referral, server_and_schema
from tests.conftest import TODAY
from tests.storage import database_url, storage_env

pytestmark = pytest.mark.postgres


def _claiming(event_id: str) -> WriteContext:
    return WriteContext(event_id=event_id, fingerprint=f"fp-{event_id}")


@contextmanager
def _ledger(tmp_path: Path) -> Iterator[tuple[CaseLedger, str, str]]:
    """The application on a fresh PostgreSQL schema, the server's URL and the schema's name."""
    with database_url("postgres", tmp_path) as url:
        ledger = CaseLedger(storage_env(url), clock=lambda: TODAY)
        try:
            yield (ledger, *server_and_schema(url))
        finally:
            ledger.close()


def _race(
    base: str, table: str, insert: str, rows: list[tuple[Any, ...]], save: Callable[[], list[UUID]]
) -> list[UUID]:
    """Another session inserts ``rows[0]`` into ``table``, ``save`` runs until it waits for it, the
    other session inserts the remaining rows and rolls back; ``save``'s result."""
    with psycopg.connect(base) as other, ThreadPoolExecutor(max_workers=1) as pool:
        other.execute("SET deadlock_timeout = '50ms'")
        other.execute(insert, rows[0])
        saved: Future[list[UUID]] = pool.submit(save)
        _wait_for_a_lock_wait(base, table, saved)
        for row in rows[1:]:
            other.execute(insert, row)
        other.rollback()
        return saved.result(timeout=20)


def _wait_for_a_lock_wait(base: str, table: str, saved: Future[list[UUID]]) -> None:
    """Until a session inserting into ``table`` (schema-qualified, quoted) waits for a lock."""
    deadline = time.monotonic() + 20
    with psycopg.connect(base, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if saved.done():
                saved.result()  # raises what the save raised
                msg = "the save ended without waiting for the other session's key"
                raise AssertionError(msg)
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                [f"%{table}%"],
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.02)
    msg = "the save never waited for the other session's key"
    raise AssertionError(msg)


def test_new_citizen_keys_of_a_save_never_deadlock_with_another_save_making_them(tmp_path: Path) -> None:
    """20 citizens filed in one batch: their keys would be inserted in the order of a set, which
    put the first of them first in 1 run of 20."""
    with _ledger(tmp_path) as (ledger, base, schema):
        master = ledger.keyring.master

        def blind(citizen_ref: str) -> str:
            return master.blind_index(citizen_ref, "461")

        refs = sorted((f"ORDER-{n:02}" for n in range(20)), key=blind)
        table = f'"{schema}"."caseledger_citizen_keys"'
        insert = (
            f"INSERT INTO {table} (key_id, blind_index, wrapped_key, created_at, municipality) "
            "VALUES (%s, %s, %s, %s, %s)"
        )
        rows = [(f"other-{n}", blind(ref), b"-", "2026-06-15", "461") for n, ref in enumerate(refs)]
        items = [partial(file_referral, ledger, {**ANNA, "citizen_ref": ref}) for ref in reversed(refs)]

        filed = _race(base, table, insert, rows, lambda: list(batch.iter_batch(ledger.writes, items)))

        assert [ledger.get_referral(i).citizen_ref for i in filed] == list(reversed(refs))


def test_claims_of_a_save_never_deadlock_with_another_save_claiming_them(tmp_path: Path) -> None:
    """A batch's items claim their ``event_id``s in item order, here the reverse of the sorted one."""
    with _ledger(tmp_path) as (ledger, base, schema):
        event_ids = [f"order-{n:02}" for n in range(5)]
        table = f'"{schema}"."caseledger_keys"'
        insert = f"INSERT INTO {table} (key, fingerprint, result) VALUES (%s, %s, %s)"
        rows = [(event_key(ANY_SCOPE, event_id), "other", "{}") for event_id in event_ids]
        items = [
            partial(file_referral, ledger, {**ANNA, "citizen_ref": f"CLAIM-{n}"}, _claiming(event_id))
            for n, event_id in enumerate(event_ids)
        ]

        filed = _race(
            base, table, insert, rows, lambda: list(batch.iter_batch(ledger.writes, list(reversed(items))))
        )

        assert len(set(filed)) == 5
        keys = [event_key(ANY_SCOPE, e) for e in event_ids]
        assert ledger.keyed_recorder.find_claims(keys).keys() == set(keys)
