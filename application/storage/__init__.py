"""Storage chosen by one setting: an SQLite file (embedded default) or PostgreSQL (production).

The code moves to one module per part; until then it is all in ``application.storage.postgres``,
whose names are re-exported here.
"""

from application.storage.postgres import (
    KEYS_TABLE,
    DatabaseFunctionsRefused,
    ExplicitEnvironment,
    PostgresKeyedRecorder,
    RevivingPool,
    SQLiteKeyedRecorder,
    describe_store,
    is_postgres,
    prepare_storage,
    rendered,
    sqlite_start_up_lock,
    start_up_lock,
    storage_env,
    storage_kind,
    store_exists,
)

__all__ = [
    "KEYS_TABLE",
    "DatabaseFunctionsRefused",
    "ExplicitEnvironment",
    "PostgresKeyedRecorder",
    "RevivingPool",
    "SQLiteKeyedRecorder",
    "describe_store",
    "is_postgres",
    "prepare_storage",
    "rendered",
    "sqlite_start_up_lock",
    "start_up_lock",
    "storage_env",
    "storage_kind",
    "store_exists",
]
