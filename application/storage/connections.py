"""PostgreSQL connections of the event store: each statement's wait for a lock bounded, a failed call
retried only briefly, and dead pooled connections replaced at checkout without a pause."""

from __future__ import annotations

import functools
import select
import time
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import ConnectionPool as EventsourcingPool
from psycopg_pool import ConnectionPool, PoolTimeout

RETRY_WINDOW_SECONDS = 1.0
"""A storage call that fails within this time of its first attempt is tried again (a connection
dropped by a server restart); one that fails later is given up, so that a request never waits for
more than about one pool timeout (``connect_timeout``) while the database is down."""


def bounded_retry(method: Callable[..., Any]) -> Callable[..., Any]:
    """eventsourcing's PostgreSQL recorder retries a failed call 10 times; each attempt may wait a
    full pool timeout while the server is down, which holds a request for close to a minute. Use
    the undecorated method and retry it only within ``RETRY_WINDOW_SECONDS``."""
    inner: Callable[..., Any] = getattr(method, "__wrapped__", method)

    @functools.wraps(inner)
    def call(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        while True:
            try:
                return inner(*args, **kwargs)
            except (InterfaceError, OperationalError):
                if time.monotonic() - started > RETRY_WINDOW_SECONDS:
                    raise
                time.sleep(0.1)

    return call


def session_options(lock_timeout: float) -> str:
    """libpq's ``options`` that bound each wait for a lock of every statement on a connection
    (``lock_timeout`` in seconds; 0 waits without end, as PostgreSQL's own default)."""
    return f"-c lock_timeout={int(lock_timeout * 1000)}ms"


class RevivingPool(EventsourcingPool[Any]):
    """eventsourcing's pool, whose checkout replaces dead connections without a pause.

    After a server restart (or terminated backends) every idle connection is dead. psycopg_pool's
    own ``check`` finds them one at a time and sleeps with backoff between failed checks (1 s, 2 s,
    …): with a few dead connections the first request after an idle restart waited seconds and
    often ran out of ``connect_timeout`` (503; figures: docs/benchmarks.md). Here a dead connection is closed and handed back (the pool
    opens a replacement in the background) and the next one is taken at once, within the same
    deadline. The projections' pool (``projections.database.RevivingPool``) does the same: the layer
    contract keeps the two packages from sharing one."""

    def getconn(self, timeout: float | None = None) -> Any:
        return checked_getconn(self, super().getconn, timeout)


def checked_getconn(pool: ConnectionPool[Any], getconn: Callable[[float], Any], timeout: float | None) -> Any:
    """A connection from ``pool`` that passed ``quick_check``, dead ones replaced, within ``timeout``."""
    wait = pool.timeout if timeout is None else timeout
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            msg = f"couldn't get a connection after {wait:.2f} sec"
            raise PoolTimeout(msg)
        connection = getconn(left)
        try:
            quick_check(connection)
        except psycopg.Error:
            connection.close()
            pool.putconn(connection)  # a closed connection is dropped and replaced by the pool
            continue
        return connection


def quick_check(connection: psycopg.Connection[Any]) -> None:
    """The check before handing out a connection, without a round trip for a healthy one.

    An idle connection's socket has nothing to read unless the server closed it (restart,
    terminated backend, idle timeout) or sent an error; only then is it pinged, and the ping's
    failure makes the pool replace it. A ping on every checkout cost one round trip each, several
    per request."""
    if connection.closed or connection.broken:
        msg = "the connection is closed"
        raise psycopg.OperationalError(msg)
    try:
        readable, _, _ = select.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]
    if readable:
        ConnectionPool.check_connection(connection)
