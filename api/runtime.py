"""How caseledger's processes set up the Python runtime they run in."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("caseledger.runtime")

FILES_PER_PROCESS = 128
"""Open files an API process needs besides its database connections: its listening socket, the
clients' connections it serves at once (64 in the drill that ran out), log and library files."""

GC_THRESHOLDS = (20_000, 20, 20)
"""CPython's cyclic garbage collector, by default, collects its youngest generation every 700 net
allocations of container objects, and the older ones every 10 of those. A batch of events
allocates millions of dicts, events and rows that reference counting alone frees, so most of those
collections find nothing to collect. At these thresholds the projection fold and the
``POST /events`` batch path spend less CPU per event (``benchmarks.cpu_per_event``; figures:
docs/benchmarks.md). Cyclic garbage still goes, a little later."""


def tune_garbage_collector() -> None:
    """Collect less often, and never walk what the process has built so far (the imported modules,
    the app, the pools): ``gc.freeze`` moves it out of the collector's sight for good."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def open_files_needed(processes: int, storage_env: dict[str, str]) -> int:
    """File descriptors ``processes`` API processes need at most: each its pools' connections (the
    event store's ``pool_size + max_overflow``, the read models' 4 and the LISTEN connection; on
    SQLite a few files per thread instead) and ``FILES_PER_PROCESS``."""
    if storage_env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        connections = int(storage_env.get("POSTGRES_POOL_SIZE") or 5)
        connections += int(storage_env.get("POSTGRES_MAX_OVERFLOW") or 10) + 4 + 1
    else:
        connections = 32
    return (processes + 1) * (connections + FILES_PER_PROCESS)  # (+1: the projection process)


def raise_open_files_limit(needed: int) -> tuple[int, int]:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit (the processes it starts
    inherit it) and warn when the hard limit is below ``needed``: out of descriptors, uvicorn drops
    new clients' connections (resets, no answer) and logs nothing. The (soft, hard) limits after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:
            log.warning("could not raise the open files limit from %d to %d: %s", soft, target, error)
    if hard != resource.RLIM_INFINITY and hard < needed:
        log.warning(
            "the open files limit (nofile, hard %d) is below the %d the API processes and their "
            "connection pools may need: raise it (ulimit -Hn, LimitNOFILE=) or serve fewer workers",
            hard,
            needed,
        )
    return soft, hard


EMFILE_EPISODE_SECONDS = 60.0
"""Out-of-descriptor errors closer together than this are one episode: logged once."""


def watch_open_files(loop: asyncio.AbstractEventLoop, count: Callable[[], None]) -> None:
    """Have ``loop`` report running out of file descriptors: the accept loop (asyncio's, where a
    failed ``accept()`` is handed to the loop's exception handler before it pauses accepting)
    otherwise drops the clients with no line in the log. Each such error is counted (``count``);
    the first of an episode is logged, as one line. Other errors go to the handler there was."""
    previous = loop.get_exception_handler()
    last_seen = -EMFILE_EPISODE_SECONDS - 1

    def handler(current: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        nonlocal last_seen
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            count()
            now = time.monotonic()
            if now - last_seen > EMFILE_EPISODE_SECONDS:
                soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
                log.error(
                    "out of file descriptors (%s; nofile %d): new connections are being refused",
                    error.strerror or error,
                    soft,
                )
            last_seen = now
            return
        if previous is not None:
            previous(current, context)
        else:
            current.default_exception_handler(context)

    loop.set_exception_handler(handler)


DESCRIPTOR_HEADROOM = 8
"""Descriptors left below the soft limit at which the process counts as out of them: a few more
clients and a new connection is dropped."""


def watch_descriptor_headroom(
    count: Callable[[], None], stop: threading.Event, *, interval: float = 1.0
) -> threading.Thread:
    """A daemon thread that checks every ``interval`` seconds how many descriptors the process has
    open (``/proc/self/fd``): when they are within ``DESCRIPTOR_HEADROOM`` of the soft limit (or
    cannot even be listed, EMFILE) an episode begins, counted (``count``) and logged once; it ends,
    logged once, when twice the headroom is free again. Under uvloop a failed ``accept()`` never
    reaches Python (libuv accepts and closes the waiting connections), so this is what sees it."""

    def usage() -> int | None:
        try:
            return len(os.listdir("/proc/self/fd"))
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                return None  # (out of them: not even the listing could be opened)
            raise

    def run() -> None:
        exhausted = False
        while not stop.wait(interval):
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft == resource.RLIM_INFINITY:
                continue
            in_use = usage()
            if not exhausted and (in_use is None or in_use >= soft - DESCRIPTOR_HEADROOM):
                exhausted = True
                count()
                log.error(
                    "out of file descriptors (%s of nofile %d open): new connections are being dropped",
                    "all" if in_use is None else in_use,
                    soft,
                )
            elif exhausted and in_use is not None and in_use < soft - 2 * DESCRIPTOR_HEADROOM:
                exhausted = False
                log.warning("file descriptors free again (%d of nofile %d open)", in_use, soft)

    watcher = threading.Thread(target=run, name="descriptor-headroom", daemon=True)
    if os.path.isdir("/proc/self/fd"):
        watcher.start()
    return watcher
