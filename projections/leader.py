"""The one projection process of a schema on PostgreSQL: the leader lock (a session advisory lock)
that a projection process waits for before it folds, and the watch that stops it once the lock is
lost."""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from projections.database import PostgresProjectionDatabase, ProjectionDatabase

log = logging.getLogger("caseledger.projections")

LEADER_RETRY_SECONDS = 1.0
"""How often a projection process that is not the leader tries to become it."""


def lead(db: ProjectionDatabase, stop: threading.Event) -> Any:
    """Wait until this process is the one projection process of its schema on PostgreSQL: a session
    advisory lock, held by a dedicated connection for as long as it stays open (a killed process's
    session ends, and its lock with it). Tried every ``LEADER_RETRY_SECONDS``; returns the
    connection, to be closed on stop, or ``None`` when stopped first or on SQLite (one file, one
    writer at a time anyway)."""
    if not isinstance(db, PostgresProjectionDatabase):
        return None
    while not stop.is_set():
        try:
            connection = db.listen_connection()
        except psycopg.Error:
            log.warning("cannot reach PostgreSQL for the leader lock; trying again", exc_info=True)
            stop.wait(LEADER_RETRY_SECONDS)
            continue
        try:
            row = connection.execute(
                "SELECT pg_try_advisory_lock(hashtext('caseledger-projections:' || current_schema()))"
            ).fetchone()
        except psycopg.Error:
            log.warning("the leader lock could not be tried; trying again", exc_info=True)
            row = None
        if row and row[0]:
            return connection
        connection.close()
        stop.wait(LEADER_RETRY_SECONDS)
    return None


def watch_lead(connection: Any, stop: threading.Event, wake: threading.Event, lost: threading.Event) -> None:
    """Check the leader lock's connection every ``LEADER_RETRY_SECONDS``; once it is gone (its
    session, and with it the lock, ended: PostgreSQL restarted, the backend terminated, the network
    cut), set ``lost`` and stop the runner, since another process may take the lock and fold."""
    while not stop.wait(LEADER_RETRY_SECONDS):
        try:
            connection.execute("SELECT 1")
        except psycopg.Error:
            if stop.is_set():  # closed by the stop itself
                return
            log.error("the leader lock's connection is lost; stopping this projection process")
            lost.set()
            stop.set()
            wake.set()
            return
