"""``caseledger import`` in several processes: one Python process checks items on one core, and the
import was bound by that process's CPU (the database's own share is about a third of it).

The coordinating process reads and parses the file and hands each line to a worker process by its
referral: every line of one referral goes to the same worker, in file order, so each referral's
items are checked against the state the items before them left, exactly as in one process. Lines
of different referrals do not read each other's state, with two exceptions the workers handle as
concurrent ``POST /events`` requests do: the same ``event_id`` claimed for two referrals (one of
them wins, not necessarily the earlier line) and a new citizen's data key made for two referrals at
once (both find the same key).

Supplier lines are barriers, as referral commands read the suppliers (a match, a price agreement):
the workers first finish everything before them, then one worker applies them alone, and every
worker then forgets what it had read (a supplier it kept from before would be stale).

When the import stops (Ctrl-C, storage unavailable, a worker failed), the chunks already handed to
the workers (at most two each) are still applied, or not, each batch in its own transactions, but
the summary does not count them: running the import again answers them ``duplicate``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import threading
import traceback
import zlib
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError

from api.batch_items import apply_items
from api.runtime import tune_garbage_collector
from api.settings import Settings
from application.errors import StorageUnavailable
from application.service.batch import BatchSession
from application.service.caseledger import CaseLedger
from application.token_roles import Token

IMPORT_ACTOR = "caseledger-import"
IN_FLIGHT = 2
"""Chunks sent to a worker and not yet answered: one being applied, the next one waiting, so that a
worker never waits for the coordinator."""

Line = tuple[int, Any, dict[str, Any] | None]
"""A line's number, its parsed JSON, and its rejection when it is not JSON."""
Outcome = tuple[int, dict[str, Any]]
"""A line's number and its ``/events`` result (for an accepted or duplicate line only its status)."""


class ImportWorkerFailed(RuntimeError):
    """A worker process stopped on an unexpected error (its traceback is the message)."""


def import_operator() -> Token:
    """Who an import runs as: an operator with every right in every municipality."""
    return Token(name=IMPORT_ACTOR, role="admin", municipality="*", created_at="")


def worker_of(raw: Any, workers: int) -> int | None:
    """The worker a line goes to, by its referral; ``None`` for a supplier line (a barrier)."""
    if not isinstance(raw, dict):
        return 0  # rejected by whichever worker checks it
    if str(raw.get("type", "")).startswith("supplier."):
        return None
    key = str(raw.get("referral_id"))
    with contextlib.suppress(ValueError):
        key = str(UUID(key))  # one referral, however its id is spelled
    return zlib.crc32(key.encode()) % workers


class ImportPool:
    """Worker processes applying an import's lines (see the module's docstring)."""

    def __init__(self, processes: int, source_system: str | None) -> None:
        context = multiprocessing.get_context("spawn")  # a fork would copy the parent's open pools
        self.connections: list[Connection] = []
        self.workers: list[Any] = []
        # Started with SIGINT blocked, which they inherit and turn into ignored before anything
        # else (see ``work``): a Ctrl-C reaches the whole process group, and the coordinator alone
        # handles it, stopping the workers once the chunks in hand are stored or not. Blocked,
        # not ignored, here: a Ctrl-C while the workers start stays pending and interrupts the
        # coordinator as soon as they have started, instead of being lost.
        interrupt_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            for number in range(processes):
                ours, theirs = context.Pipe()
                worker = context.Process(
                    target=work, args=(theirs, source_system), name=f"caseledger-import-{number}", daemon=True
                )
                self.connections.append(ours)
                worker.start()
                self.workers.append(worker)
                theirs.close()
        except BaseException:
            self.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, interrupt_mask)
        self.in_flight = [0] * processes
        self.epoch = 0
        """Counts the barriers passed: a worker forgets what it read when a chunk's epoch is new."""

    def outcomes(self, chunks: Iterable[list[Line]]) -> Iterator[list[Outcome]]:
        """Each line's outcome, a list at a time as the workers answer (not in line order)."""
        for chunk in chunks:
            parts: list[list[tuple[int, Any]]] = [[] for _ in self.connections]
            barrier: list[tuple[int, Any]] = []
            malformed: list[Outcome] = []
            for number, raw, rejection in chunk:
                if rejection is not None:
                    malformed.append((number, rejection))
                    continue
                worker = worker_of(raw, len(parts))
                if worker is None:
                    barrier.append((number, raw))
                    continue
                if barrier:
                    yield from self._pass_barrier(parts, barrier)
                    parts, barrier = [[] for _ in self.connections], []
                parts[worker].append((number, raw))
            if barrier:
                yield from self._pass_barrier(parts, barrier)
            else:
                yield from self._send(parts)
            yield malformed
        yield from self._drain()

    def close(self) -> None:
        for connection in self.connections:
            with contextlib.suppress(OSError):  # that worker is gone already
                connection.send(None)
        for worker in self.workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for connection in self.connections:
            connection.close()

    def _pass_barrier(
        self, before: list[list[tuple[int, Any]]], barrier: list[tuple[int, Any]]
    ) -> Iterator[list[Outcome]]:
        """Everything ``before`` stored, then the ``barrier`` lines alone, then a new epoch."""
        yield from self._send(before)
        yield from self._drain()
        yield from self._send([barrier])
        yield from self._drain()
        self.epoch += 1

    def _send(self, parts: list[list[tuple[int, Any]]]) -> Iterator[list[Outcome]]:
        for worker, lines in enumerate(parts):
            if not lines:
                continue
            while self.in_flight[worker] >= IN_FLIGHT:
                yield self._receive(worker)
            try:
                self.connections[worker].send((self.epoch, lines))
            except OSError:  # a broken pipe: the worker is gone
                raise ImportWorkerFailed(f"import worker {worker} exited") from None
            self.in_flight[worker] += 1

    def _drain(self) -> Iterator[list[Outcome]]:
        for worker, in_flight in enumerate(self.in_flight):
            for _ in range(in_flight):
                yield self._receive(worker)

    def _receive(self, worker: int) -> list[Outcome]:
        try:
            kind, payload = self.connections[worker].recv()
        except EOFError:
            raise ImportWorkerFailed(f"import worker {worker} exited") from None
        self.in_flight[worker] -= 1
        if kind == "unavailable":
            raise StorageUnavailable(payload)
        if kind == "failed":
            raise ImportWorkerFailed(payload)
        return [
            (number, outcome if isinstance(outcome, dict) else {"status": outcome})
            for number, outcome in payload
        ]


def work(connection: Connection, source_system: str | None) -> None:
    """A worker process: apply each chunk received, answer its outcomes, until ``None`` (or until
    the coordinator is gone)."""
    # Ctrl-C is the coordinator's to handle; a SIGINT that arrived while this process started
    # (blocked, inherited from the coordinator) is dropped with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    tune_garbage_collector()
    env = Settings().storage_env()
    if "POSTGRES_POOL_SIZE" in env:
        env["POSTGRES_POOL_SIZE"] = "2"  # one batch at a time: more would sit idle (it may overflow)
    try:
        ledger = CaseLedger(env)
    except (OperationalError, InterfaceError) as error:
        connection.send(("unavailable", str(error)))
        return
    session = BatchSession(ledger.writes)
    operator = import_operator()
    epoch = 0
    try:
        for chunk_epoch, lines in _received(connection):
            if chunk_epoch != epoch:
                session.forget()
                epoch = chunk_epoch
            try:
                results = apply_items(
                    ledger, operator, [raw for _, raw in lines], source_system, session=session
                )
            except StorageUnavailable as error:
                connection.send(("unavailable", str(error)))
                return
            # Only a rejection's result is sent whole: the answer to a chunk of accepted lines
            # stays small.
            connection.send(
                (
                    "done",
                    [
                        (number, result if result["status"] == "rejected" else result["status"])
                        for (number, _), result in zip(lines, results, strict=True)
                    ],
                )
            )
    except BrokenPipeError:
        pass  # the coordinator is gone (killed): nothing left to answer to
    except Exception:  # reported to the coordinator, which stops the import
        connection.send(("failed", traceback.format_exc()))
    finally:
        ledger.close()


def _received(connection: Connection) -> Iterator[Any]:
    """The chunks the coordinator sends, until ``None`` or until it is gone.

    A thread receives them as they come, so that the coordinator's send of the next chunk (larger
    than the pipe's buffer) never waits on this process, which may itself be waiting for the
    coordinator to read its answer (a chunk of rejections answers with all their problems): each
    would wait for the other for ever."""
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def receive() -> None:
        try:
            while (message := connection.recv()) is not None:
                inbox.put(message)
        except Exception:  # noqa: S110 - the coordinator is gone, or stopped mid-send
            pass
        finally:
            inbox.put(None)

    threading.Thread(target=receive, name="import-inbox", daemon=True).start()
    while (message := inbox.get()) is not None:
        yield message
