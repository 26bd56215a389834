"""PostgreSQL connections are checked before use without a round trip, yet dead ones are replaced."""

from __future__ import annotations

import psycopg
import pytest

from application.service.caseledger import CaseLedger
from tests.storage import postgres_schema, storage_env


@pytest.mark.postgres
def test_a_connection_closed_by_the_server_is_replaced_before_use() -> None:
    with postgres_schema() as url:
        ledger = CaseLedger(storage_env(url))
        try:
            datastore = ledger.keyed_recorder.datastore
            with datastore.transaction(commit=False) as cursor:
                cursor.execute("SELECT pg_backend_pid() AS pid")
                row = cursor.fetchone()
                assert row is not None
                pid = row["pid"]
            env = storage_env(url)
            with psycopg.connect(
                host=env["POSTGRES_HOST"],
                dbname=env["POSTGRES_DBNAME"],
                user=env["POSTGRES_USER"],
                autocommit=True,
            ) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(datastore.pool.max_size + 1):
                assert ledger.keyed_recorder.find_claim("event:none") is None
        finally:
            ledger.close()
