"""Several processes opening the same store at once (``serve --workers N`` and a projection process)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import psycopg

from application.service.caseledger import CaseLedger
from application.storage.environment import prepare_storage
from tests.concurrency import run_together
from tests.storage import POSTGRES_ADMIN_URL, storage_env


@contextmanager
def schema_not_yet_created(db_url: str) -> Iterator[str]:
    """``db_url`` with its PostgreSQL schema swapped for one that does not exist yet (dropped after)."""
    schema = parse_qs(urlsplit(db_url).query).get("schema", [""])[0]
    if not schema:
        yield db_url  # SQLite: the file does not exist yet either
        return
    new = f"{schema}_new"
    try:
        yield db_url.replace(f"schema={schema}", f"schema={new}")
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{new}" CASCADE')


def test_ledgers_opened_at_once_on_a_new_store_all_start_and_share_it(db_url: str) -> None:
    with schema_not_yet_created(db_url) as url:
        env = storage_env(url)
        barrier = threading.Barrier(4)
        failures: list[BaseException] = []
        opened: list[CaseLedger] = []

        def start() -> None:
            try:
                barrier.wait()
                prepare_storage(env)
                ledger = CaseLedger(env)
                opened.append(ledger)
                ledger.open_tokens()
            except BaseException as error:
                failures.append(error)

        for _ in range(2):  # a new store, then one whose tables exist
            run_together(start, 4)
        try:
            assert failures == []
            assert len(opened) == 8
            secret = opened[0].open_tokens().create(role="admin", municipality="*").secret
            assert opened[-1].open_tokens().authenticate(secret) is not None
        finally:
            for ledger in opened:
                ledger.close()
