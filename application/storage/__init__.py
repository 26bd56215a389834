"""Storage chosen by one setting: an SQLite file (embedded default) or PostgreSQL (production).

The recorders extend eventsourcing's own with two tables written in the same transaction as the
events: ``caseledger_keys`` (see ``application.keys``) and ``caseledger_chain``, the hash chains
that make tampering evident (see ``application.storage.chain_links``). Both also answer the verifier's reads.

One module per part: ``environment`` (the settings a ``CASELEDGER_DATABASE_URL`` gives
eventsourcing, whether the store exists, its start-up), ``sqlite`` and ``postgres`` (each dialect's
recorder), ``recording`` (what both recorders share), ``group_commit`` (concurrent saves in one
transaction), ``health`` (whether the store takes writes), ``chain_links`` (the hash chains' links),
``envelope_labels`` (what the recorders read of a sealed field), ``connections`` (PostgreSQL's pool
and retries), and the stores kept beside the events: ``tokens``, ``access_log`` and
``citizen_keys`` (its SQL per dialect in ``citizen_keys_dialects``); ``municipalities`` (which
municipality a referral belongs to, read from the store and remembered) and ``key_files`` (the
secrets kept in files beside an SQLite store). Storage imports nothing of
``application.audit`` or ``application.privacy``. The names below are re-exported for the modules
that import them from here.
"""

from application.storage.connections import (
    RETRY_WINDOW_SECONDS,
    RevivingPool,
    checked_getconn,
    quick_check,
    session_options,
)
from application.storage.environment import (
    DEFAULT_SQLITE_PATH,
    POSTGRES_SCHEMES,
    ExplicitEnvironment,
    describe_store,
    is_postgres,
    prepare_storage,
    sqlite_start_up_lock,
    start_up_lock,
    storage_env,
    storage_kind,
    store_exists,
)
from application.storage.postgres import DatabaseFunctionsRefused, PostgresKeyedRecorder, rendered
from application.storage.recording import KEYS_TABLE, KeyedRecording, citizen_links
from application.storage.sqlite import SQLiteKeyedRecorder

KeyedRecorder = SQLiteKeyedRecorder | PostgresKeyedRecorder
"""Either dialect's recorder: the events with their claims and chain rows."""

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "KEYS_TABLE",
    "POSTGRES_SCHEMES",
    "RETRY_WINDOW_SECONDS",
    "DatabaseFunctionsRefused",
    "ExplicitEnvironment",
    "KeyedRecorder",
    "KeyedRecording",
    "PostgresKeyedRecorder",
    "RevivingPool",
    "SQLiteKeyedRecorder",
    "checked_getconn",
    "citizen_links",
    "describe_store",
    "is_postgres",
    "prepare_storage",
    "quick_check",
    "rendered",
    "session_options",
    "sqlite_start_up_lock",
    "start_up_lock",
    "storage_env",
    "storage_kind",
    "store_exists",
]
