"""The write-side benchmark suite: caseledger against the raw ceiling of the same database.

    python -m benchmarks.suite --storage both --size small          # a few minutes: a quick check
    python -m benchmarks.suite --storage postgres --size 1M         # the issue's data set

For each storage, in one run, on a fresh database (an SQLite file / a PostgreSQL schema):

1. **raw ceiling**: plain psycopg / sqlite3 inserting event-sized rows (the JSON of a real
   command, ~400 bytes) into a table shaped like the events table: one row per transaction,
   many rows per transaction (``executemany``), and ``COPY`` (PostgreSQL only);
2. **import**: the data set (``benchmarks/workload.py``: 180 suppliers with price lists in six
   municipalities, then referral lifecycles) written as JSON lines and loaded with
   ``caseledger import`` in a subprocess (``--import-processes``; by default as many processes as
   it starts by itself): events/s, the CPU per event and the peak RSS of all its processes;
3. the **API server** (uvicorn in a subprocess, ``--workers N``, by default as many as ``caseledger
   serve`` starts: one per available core, at most 3, on PostgreSQL, one on SQLite; with more than one worker the
   projections run as ``caseledger projections run`` beside it), with tokens per municipality:
   - **HTTP commands**: ``--clients`` threads each running lifecycles (refer → match → agree
     price → extend/adjust → close) as ``case_system`` tokens of their municipality for
     ``--duration`` seconds: commands/s, p50/p95/p99 latency, errors by status;
   - **POST /events**: two clients sending batches of 1,000 new items: events/s;
   - **live lag**: while clients write at a moderate rate, a probe files a referral and polls
     ``/readyz`` until the projections have passed its position: commit → visible, p50/p95;
   - the server's RSS (all its processes), sampled throughout: start, peak, end;
4. optionally (``--projections``) ``benchmarks.projections`` on the same database (rebuild rate,
   report latencies).

Prints one Markdown table per storage (measure, result, target, raw ceiling, ratio). Measures,
never asserts. The machine's load average is printed, since other work on it skews every figure.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from api.settings import Settings
from api.supervisor import MULTIPROCESS_DIR
from application.service.caseledger import CaseLedger
from application.storage.environment import prepare_storage
from benchmarks import arguments, use_benchmark_master_key, uvicorn_command
from benchmarks.workload import MUNICIPALITIES, Workload, http_command, write_jsonl

PG_BASE = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SIZES = {
    # data set events, HTTP seconds, POST /events events, lag seconds, raw rows (one per tx)
    "tiny": (3_000, 5.0, 2_000, 3.0, 500),
    "small": (20_000, 15.0, 10_000, 8.0, 2_000),
    "medium": (100_000, 30.0, 30_000, 15.0, 3_000),
    "1M": (1_000_000, 60.0, 60_000, 30.0, 5_000),
}
TARGETS = {
    "commands": "≥ 400/s",
    "p99": "≤ 100 ms",
    "ingest": "≥ 5,000 events/s",
    "lag": "p95 ≤ 100 ms",
    "rss": "≤ 300 MB, flat",
}
SEED = 7
CASELEDGER = str(Path(sys.executable).parent / "caseledger")


# -- processes and memory ----------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _tree(pid: int) -> list[int]:
    return [pid, *children_of(pid), *(c for child in children_of(pid) for c in children_of(child))]


def _stat(pid: int | str) -> tuple[str, list[str]] | None:
    """A process's command name and the fields after it in ``/proc/PID/stat`` (None once gone)."""
    try:
        head, tail = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
    except OSError:
        return None
    return head.split("(", 1)[1], tail.split()


def _cpu_seconds(pids: Iterable[int | str], name: str | None = None) -> float:
    """CPU time (user + system) used so far by ``pids`` (only those whose command is ``name``)."""
    ticks = 0
    for pid in pids:
        found = _stat(pid)
        if found is not None and name in (None, found[0]):
            ticks += int(found[1][11]) + int(found[1][12])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its descendants, from /proc."""
    return _cpu_seconds(_tree(pid))


def postgres_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL server's processes on this machine, from /proc (zero
    when it runs elsewhere). Backends that exit take theirs with them; pooled ones stay."""
    return _cpu_seconds((entry.name for entry in Path("/proc").iterdir() if entry.name.isdigit()), "postgres")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (MB), from /proc."""
    return _tree_memory_mb(pid, "status", "VmRSS:")


def tree_pss_mb(pid: int) -> float:
    """The same processes' proportional set size (MB): each page shared among them (the
    interpreter's and the libraries' code, which every API process maps) counted once in all, not
    once per process as their RSS counts it; what the group takes from the machine's memory."""
    return _tree_memory_mb(pid, "smaps_rollup", "Pss:")


def _tree_memory_mb(pid: int, source: str, field: str) -> float:
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/{source}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class RssSampler:
    """Samples a process tree's RSS (and PSS) every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []
        self.pss: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss_mb(self.pid)
            if rss:
                self.samples.append(rss)
                self.pss.append(tree_pss_mb(self.pid))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self) -> int:
        return len(self.samples)

    def summary(self, since: int = 0) -> str:
        part = self.samples[since:] or [0.0]
        pss = max(self.pss[since:] or [0.0])
        shared = f" (PSS peak {pss:.0f} MB)" if pss else ""  # no smaps_rollup: Linux before 4.14
        return f"start {part[0]:.0f}, peak {max(part):.0f}, end {part[-1]:.0f} MB{shared}"

    def peak(self, since: int = 0) -> float:
        return max(self.samples[since:] or [0.0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_speed_ms() -> float:
    """Milliseconds of CPU for a fixed piece of pure-Python work (the best of five): how fast this
    machine runs Python right now. The same code measured 0.26 and 0.39 ms CPU per imported event on
    one machine an hour apart, so every table prints this beside its figures."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        total = 0
        for n in range(1_000_000):
            total += n & 7
        best = min(best, time.process_time() - started)
    return best * 1000


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- databases -------------------------------------------------------------------------------------


@dataclass
class Database:
    storage: str
    url: str
    schema: str | None = None
    path: Path | None = None

    def drop(self) -> None:
        if self.schema:
            with psycopg.connect(PG_BASE, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(sql.Identifier(self.schema)))


def fresh_database(storage: str, workdir: Path) -> Database:
    tag = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if storage == "sqlite":
        path = workdir / f"{tag}.sqlite"
        return Database(storage, f"sqlite:///{path}", path=path)
    database = Database(storage, f"{PG_BASE}?schema={tag}&pool_size=20&max_overflow=10", schema=tag)
    prepare_storage(Settings(database_url=database.url).storage_env())
    return database


# -- 1. the raw ceiling ------------------------------------------------------------------------------


def event_sized_rows(count: int) -> Iterator[tuple[uuid.UUID, int, str, bytes]]:
    """Rows like stored events: a stream, a version, a topic and the JSON of a real command."""
    workload = Workload(seed=SEED, suppliers=20, prefix="raw")
    items = workload.referral_items(count)
    for n, item in enumerate(itertools.islice(items, count)):
        state = json.dumps(item["data"], ensure_ascii=False).encode()
        yield uuid.UUID(item["referral_id"]), n + 1, f"domain.referral:Referral.{item['type']}", state


def raw_postgres(schema: str, one_by_one: int, batched: int, copied: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    table = sql.Identifier(schema, "raw_events")
    with psycopg.connect(PG_BASE) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {0} (id bigserial PRIMARY KEY, originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL, "
                "UNIQUE (originator_id, originator_version))"
            ).format(table)
        )
        conn.commit()
        insert = sql.SQL(
            "INSERT INTO {0} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)"
        ).format(table)
        rows = list(event_sized_rows(one_by_one))
        started = time.perf_counter()
        for row in rows:
            conn.execute(insert, row)
            conn.commit()
        rates["one per transaction"] = len(rows) / (time.perf_counter() - started)
        conn.execute(sql.SQL("TRUNCATE {0}").format(table))
        conn.commit()
        rates["one per transaction, 16 connections"] = _concurrent_single_rows(insert, one_by_one)
        conn.execute(sql.SQL("TRUNCATE {0}").format(table))
        conn.commit()
        rows = list(event_sized_rows(batched))
        started = time.perf_counter()
        with conn.cursor() as cur:
            for start in range(0, len(rows), 1000):
                cur.executemany(insert, rows[start : start + 1000])
        conn.commit()
        rates["executemany, one transaction"] = len(rows) / (time.perf_counter() - started)
        conn.execute(sql.SQL("TRUNCATE {0}").format(table))
        conn.commit()
        rows = list(event_sized_rows(copied))
        started = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                sql.SQL("COPY {0} (originator_id, originator_version, topic, state) FROM STDIN").format(table)
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        conn.commit()
        rates["COPY"] = len(rows) / (time.perf_counter() - started)
        conn.execute(sql.SQL("DROP TABLE {0}").format(table))
    return rates


def _concurrent_single_rows(insert: sql.Composed, count: int, connections: int = 16) -> float:
    """``connections`` threads, each inserting its share one row per transaction (PostgreSQL can
    then flush several commits' WAL at once: the ceiling for 16 concurrent HTTP clients)."""
    rows = list(event_sized_rows(count))
    barrier = threading.Barrier(connections + 1)

    def run(share: list[tuple[uuid.UUID, int, str, bytes]]) -> None:
        with psycopg.connect(PG_BASE) as conn:
            barrier.wait()
            for row in share:
                conn.execute(insert, (uuid.uuid4(), *row[1:]))
                conn.commit()

    threads = [threading.Thread(target=run, args=(rows[n::connections],)) for n in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return len(rows) / (time.perf_counter() - started)


def raw_sqlite(path: Path, one_by_one: int, batched: int) -> dict[str, float]:
    """sqlite3 as eventsourcing configures it: WAL journal, default synchronous."""
    rates: dict[str, float] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, topic TEXT, "
            "state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )
        insert = "INSERT INTO raw_events VALUES (?, ?, ?, ?)"
        rows = [(i.hex, v, t, s) for i, v, t, s in event_sized_rows(one_by_one)]
        started = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN")
            conn.execute(insert, row)
            conn.execute("COMMIT")
        rates["one per transaction"] = len(rows) / (time.perf_counter() - started)
        conn.execute("DELETE FROM raw_events")
        rows = [(i.hex, v, t, s) for i, v, t, s in event_sized_rows(batched)]
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        rates["executemany, one transaction"] = len(rows) / (time.perf_counter() - started)
        conn.execute("DROP TABLE raw_events")
    finally:
        conn.close()
    return rates


# -- 2. the import -------------------------------------------------------------------------------------


def caseledger_env(database: Database, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CASELEDGER_DATABASE_URL"] = database.url
    env.update(extra)
    return env


def run_import(
    database: Database, events: int, workdir: Path, processes: int | None = None
) -> dict[str, Any]:
    """``caseledger import`` of the workload in a subprocess; ``processes``: as ``import`` chooses."""
    processes = processes or Settings(database_url=database.url).import_processes()
    workload = Workload(seed=SEED, prefix="import")
    path = workdir / f"dataset-{events}.jsonl"
    written = write_jsonl(path, itertools.chain(workload.supplier_items(), workload.referral_items(events)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [CASELEDGER, "import", str(path), "--processes", str(processes)],
        env=caseledger_env(database, COLUMNS="200"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    sampler = RssSampler(process.pid)
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    sampler.stop()
    found = re.search(r"([\d,]+) accepted, ([\d,]+) duplicates, ([\d,]+) rejected", output)
    accepted = int(found.group(1).replace(",", "")) if found else 0
    rejected = int(found.group(3).replace(",", "")) if found else -1
    path.unlink()
    return {
        "lines": written,
        "accepted": accepted,
        "rejected": rejected,
        "seconds": elapsed,
        "rate": accepted / elapsed,
        "rss": sampler.summary(),
        "cpu_per_event_ms": cpu * 1000 / max(accepted, 1),
        "exit": process.returncode,
    }


# -- 3. the server ---------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    processes: list[subprocess.Popen[bytes]]
    sampler: RssSampler
    projection_sampler: RssSampler | None = None
    """The projection process's RSS (with more than one worker: a process outside uvicorn's tree)."""

    def stop(self) -> None:
        self.sampler.stop()
        if self.projection_sampler is not None:
            self.projection_sampler.stop()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def serve(database: Database, workers: int, workdir: Path) -> Iterator[Server]:
    port = free_port()
    separate = workers > 1
    env = caseledger_env(database, CASELEDGER_RUN_PROJECTIONS="false" if separate else "true")
    if separate:
        # As ``caseledger serve`` does: the API processes keep their metrics in shared files.
        metrics = workdir / f"metrics-{port}"
        metrics.mkdir()
        env[MULTIPROCESS_DIR] = str(metrics)
    log = (workdir / f"server-{port}.log").open("wb")
    server = subprocess.Popen(
        uvicorn_command(port, "--workers", str(workers), "--no-access-log"),
        env=env,
        stdout=log,
        stderr=log,
    )
    processes = [server]
    if separate:
        processes.append(
            subprocess.Popen([CASELEDGER, "projections", "run"], env=env, stdout=log, stderr=log)
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        server.terminate()
        msg = f"the server did not come up; see {log.name}"
        raise RuntimeError(msg)
    sampler = RssSampler(server.pid)
    running = Server(url, processes, sampler, RssSampler(processes[1].pid) if separate else None)
    try:
        yield running
    finally:
        running.stop()
        log.close()


def create_tokens(database: Database) -> dict[str, str]:
    """A case_system token per municipality, and an admin ``*`` one."""
    ledger = CaseLedger(Settings(database_url=database.url).storage_env())
    try:
        store = ledger.open_tokens()
        tokens = {m: store.create(role="case_system", municipality=m).secret for m in MUNICIPALITIES}
        tokens["*"] = store.create(role="admin", municipality="*").secret
    finally:
        ledger.close()
    return tokens


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, status: int, text: str) -> None:
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.statuses[status] += 1
            if status >= 300 and len(self.errors) < 5:
                self.errors.append(f"{status} {text[:300]}")


def command_client(
    base: str, token: str, municipality: str, seed: int, stop: threading.Event, load: Load, pause: float = 0.0
) -> None:
    """Run referral lifecycles through the HTTP API until ``stop``."""
    workload = Workload(seed=SEED, prefix=f"http{seed}")
    workload.rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    with LeanClient(base, headers) as client:
        while not stop.is_set():
            for _, item in workload.lifecycle(municipality):
                if stop.is_set():
                    return
                path, body = http_command(item)
                started = time.perf_counter()
                try:
                    status, text = client.post(path, body)
                    load.record(started, status, text)
                    ok = status < 300
                except (OSError, http.client.HTTPException) as error:
                    load.record(started, 0, repr(error))
                    ok = False
                if not ok:
                    break
                if pause:
                    time.sleep(pause)


class LeanClient:
    """A keep-alive HTTP/1.1 client on ``http.client``: the load generator shares the machine's two
    cores with the server and PostgreSQL, and httpx spends about three times the CPU per request."""

    def __init__(self, base: str, headers: dict[str, str], timeout: float = 30) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname or "127.0.0.1", parts.port or 80, timeout
        self.headers = {**headers, "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def post(self, path: str, body: Any) -> tuple[int, str]:
        payload = json.dumps(body).encode()
        try:
            self.connection.request("POST", path, payload, self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()  # a dropped keep-alive connection: one fresh attempt
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request("POST", path, payload, self.headers)
            response = self.connection.getresponse()
        return response.status, response.read().decode()

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def http_commands(server: Server, tokens: dict[str, str], clients: int, duration: float) -> dict[str, Any]:
    load = Load()
    stop = threading.Event()
    mark = server.sampler.mark()
    threads = [
        threading.Thread(
            target=command_client,
            args=(
                server.url,
                tokens[MUNICIPALITIES[i % len(MUNICIPALITIES)]],
                MUNICIPALITIES[i % 6],
                1000 + i,
            ),
            kwargs={"stop": stop, "load": load},
        )
        for i in range(clients)
    ]
    cpu = sum(tree_cpu_seconds(p.pid) for p in server.processes)
    client_cpu, postgres_cpu = time.process_time(), postgres_cpu_seconds()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = sum(tree_cpu_seconds(p.pid) for p in server.processes) - cpu
    client_cpu, postgres_cpu = time.process_time() - client_cpu, postgres_cpu_seconds() - postgres_cpu
    ok = sum(n for status, n in load.statuses.items() if 200 <= status < 300)
    sent = max(len(load.latencies), 1)
    return {
        "cpu_ms": cpu * 1000 / sent,
        "client_cpu_ms": client_cpu * 1000 / sent,
        "postgres_cpu_ms": postgres_cpu * 1000 / sent,
        "commands": len(load.latencies),
        "rate": ok / elapsed,
        "p50": percentile(load.latencies, 0.50) * 1000,
        "p95": percentile(load.latencies, 0.95) * 1000,
        "p99": percentile(load.latencies, 0.99) * 1000,
        "statuses": dict(load.statuses),
        "errors": load.errors,
        "rss": server.sampler.summary(mark),
        "rss_peak": server.sampler.peak(mark),
    }


def post_events(server: Server, token: str, events: int, clients: int = 2) -> dict[str, Any]:
    """``clients`` threads each sending 1,000-item batches of new lifecycles."""
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()

    def bodies(n: int) -> list[tuple[int, bytes]]:
        """The client's batches, encoded before the clock starts (the load generator shares the
        machine's two cores with the server: making 1,000 items took as long as storing them)."""
        workload = Workload(seed=SEED, prefix=f"batch{n}-{uuid.uuid4().hex[:6]}")
        workload.rng = random.Random(5000 + n)
        items = workload.referral_items(events // clients)
        encoded = []
        while chunk := list(itertools.islice(items, 1000)):
            encoded.append((len(chunk), json.dumps({"events": chunk, "source_system": "bench"}).encode()))
        return encoded

    prepared = [bodies(n) for n in range(clients)]

    def client_run(n: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as c:
            for size, body in prepared[n]:
                started = time.perf_counter()
                response = c.post("/events", content=body)
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        counts[f"http {response.status_code}"] += size
                        continue
                    counts.update(r["status"] for r in response.json()["results"])

    mark = server.sampler.mark()
    cpu = [tree_cpu_seconds(p.pid) for p in server.processes]
    postgres_cpu = postgres_cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = [tree_cpu_seconds(p.pid) - before for p, before in zip(server.processes, cpu, strict=True)]
    per_event = 1000 / max(counts["accepted"], 1)
    return {
        "accepted": counts["accepted"],
        "counts": dict(counts),
        "rate": counts["accepted"] / elapsed,
        "seconds": elapsed,
        # the API's processes, the projection process (if separate), PostgreSQL; ms per event
        "cpu_ms": [round(c * per_event, 3) for c in cpu],
        "postgres_cpu_ms": round((postgres_cpu_seconds() - postgres_cpu) * per_event, 3),
        "batch_p50": percentile(latencies, 0.5) * 1000,
        "rss": server.sampler.summary(mark),
    }


def visible_rate(batch: dict[str, Any], caught_up: dict[str, Any]) -> float:
    """Events/s from ``post_events``' first batch sent until ``wait_for_projections`` found the read
    models caught up with them: accepted and visible."""
    return float(batch["accepted"] / (batch["seconds"] + caught_up["seconds"]))


def wait_for_projections(server: Server, timeout: float = 600.0) -> dict[str, Any]:
    """Wait until the read models have processed every stored event."""
    started = time.perf_counter()
    behind = None
    while time.perf_counter() - started < timeout:
        ready = httpx.get(f"{server.url}/readyz", timeout=10).json()
        lag = ready["projections"]["lag"]
        behind = lag if behind is None else behind
        if lag == 0:
            break
        time.sleep(0.2)
    return {"behind": behind or 0, "seconds": time.perf_counter() - started}


def live_lag(server: Server, tokens: dict[str, str], duration: float, writers: int = 4) -> dict[str, Any]:
    """Commit → visible in the read models while ``writers`` clients write at a moderate rate."""
    load = Load()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=command_client,
            args=(server.url, tokens[MUNICIPALITIES[i]], MUNICIPALITIES[i], 3000 + i),
            kwargs={"stop": stop, "load": load, "pause": 0.02},
        )
        for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    lags: list[float] = []
    workload = Workload(seed=SEED, prefix="probe")
    workload.rng = random.Random(4242)
    headers = {"Authorization": f"Bearer {tokens['461']}"}
    deadline = time.perf_counter() + duration
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        while time.perf_counter() < deadline:
            path, body = http_command(workload.lifecycle("461")[0][1])
            response = client.post(path, json=body)
            committed = time.perf_counter()
            if response.status_code != 201:
                continue
            position = response.json()["position"]
            while time.perf_counter() - committed < 10:
                ready = client.get("/readyz").json()
                if (ready["projections"]["position"] or 0) >= position:
                    lags.append(time.perf_counter() - committed)
                    break
                time.sleep(0.002)
            time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed_writes = len(load.latencies) / max(duration, 1e-9)
    return {
        "probes": len(lags),
        "p50": percentile(lags, 0.5) * 1000,
        "p95": percentile(lags, 0.95) * 1000,
        "max": max(lags, default=float("nan")) * 1000,
        "background": elapsed_writes,
    }


# -- the report ------------------------------------------------------------------------------------


def ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "–"


def run_storage(storage: str, args: argparse.Namespace, workdir: Path) -> list[str]:
    events, duration, batch_events, lag_seconds, one_by_one = SIZES[args.size]
    if args.duration:
        duration = args.duration
    database = fresh_database(storage, workdir)
    lines = [
        f"\n### {storage}, size {args.size} — load average before: {load_average()}; "
        f"CPU speed check: {cpu_speed_ms():.0f} ms (lower is faster); projection batch size "
        f"{os.environ.get('CASELEDGER_PROJECTIONS__BATCH_SIZE', 'default')}, nice "
        f"{os.environ.get('CASELEDGER_PROJECTIONS__NICE', 'default')}\n"
    ]
    try:
        print(f"[{storage}] raw ceiling …", file=sys.stderr)
        if storage == "postgres":
            assert database.schema
            raw = raw_postgres(database.schema, one_by_one, 20_000, 50_000)
        else:
            assert database.path
            raw = raw_sqlite(database.path.with_suffix(".raw.sqlite"), one_by_one, 20_000)
        single = max(rate for name, rate in raw.items() if name.startswith("one per transaction"))
        bulk = max(raw.values())
        print(f"[{storage}] import of {events:,} events …", file=sys.stderr)
        import_processes = args.import_processes or Settings(database_url=database.url).import_processes()
        imported = run_import(database, events, workdir, import_processes)
        print(f"[{storage}]   raw {raw}; import {imported}", file=sys.stderr)
        rows = [("raw: " + name, f"{rate:,.0f} rows/s", "", "", "") for name, rate in raw.items()]
        rows.append(
            (
                f"`caseledger import` ({imported['lines']:,} lines, {import_processes} process(es))",
                f"{imported['rate']:,.0f} events/s ({imported['seconds']:.0f} s, "
                f"{imported['rejected']} rejected)",
                TARGETS["ingest"],
                f"{bulk:,.0f} rows/s (best bulk)",
                ratio(imported["rate"], bulk),
            )
        )
        rows.append(("importer RSS (all its processes)", imported["rss"], "flat", "", ""))
        rows.append(
            (
                "importer CPU per event (its processes; the database's not included)",
                f"{imported['cpu_per_event_ms']:.3f} ms (~{1 / max(imported['cpu_per_event_ms'], 1e-9) * 1000:,.0f} "
                "events/s per core)",
                "",
                "",
                "",
            )
        )
        if args.import_only:
            lines += [*_table(rows), f"\nload average after: {load_average()}"]
            return lines
        tokens = create_tokens(database)
        # As many API processes as ``caseledger serve`` would start on this store, unless told.
        workers = args.workers or Settings(database_url=database.url).serve_processes()
        with serve(database, workers, workdir) as server:
            print(f"[{storage}] projections catching up with the import …", file=sys.stderr)
            initial = wait_for_projections(server, timeout=7200)
            print(f"[{storage}] HTTP commands, {args.clients} clients, {duration:.0f} s …", file=sys.stderr)
            commands = http_commands(server, tokens, args.clients, duration)
            print(f"[{storage}]   {commands}", file=sys.stderr)
            print(f"[{storage}] POST /events, {batch_events:,} events …", file=sys.stderr)
            batch = post_events(server, tokens["*"], batch_events)
            print(f"[{storage}]   {batch}", file=sys.stderr)
            print(f"[{storage}] projections catching up …", file=sys.stderr)
            catch_up = wait_for_projections(server)
            print(f"[{storage}] live lag, {lag_seconds:.0f} s …", file=sys.stderr)
            lag = live_lag(server, tokens, lag_seconds)
            rss = server.sampler.summary()
            projection_rss = server.projection_sampler.summary() if server.projection_sampler else None
        rows += [
            (
                f"HTTP commands ({args.clients} clients, {workers} worker(s))",
                f"{commands['rate']:,.0f} commands/s ({commands['commands']:,} in {duration:.0f} s)",
                TARGETS["commands"],
                f"{single:,.0f} rows/s (one per tx, best)",
                ratio(commands["rate"], single),
            ),
            (
                "HTTP command latency",
                f"p50 {commands['p50']:.0f} ms, p95 {commands['p95']:.0f} ms, p99 {commands['p99']:.0f} ms",
                TARGETS["p99"],
                "",
                "",
            ),
            (
                "API server CPU per command (all its processes)",
                f"{commands['cpu_ms']:.1f} ms (~{1000 / max(commands['cpu_ms'], 1e-9):,.0f} commands/s per core)",
                "",
                "",
                "",
            ),
            (
                "CPU per command: API server / PostgreSQL / load generator",
                f"{commands['cpu_ms']:.1f} / {commands['postgres_cpu_ms']:.1f} / {commands['client_cpu_ms']:.1f} ms "
                f"(two cores: at most ~{2000 / max(commands['cpu_ms'] + commands['postgres_cpu_ms'] + commands['client_cpu_ms'], 1e-9):,.0f} commands/s)",
                "",
                "",
                "",
            ),
            (
                "HTTP statuses",
                ", ".join(f"{s}: {n:,}" for s, n in sorted(commands["statuses"].items())),
                "",
                "",
                "",
            ),
            (
                "POST /events (2 clients, 1,000 items per batch)",
                f"{batch['rate']:,.0f} events/s ({batch['accepted']:,} accepted; batch p50 {batch['batch_p50']:.0f} ms)",
                TARGETS["ingest"],
                f"{bulk:,.0f} rows/s (best bulk)",
                ratio(batch["rate"], bulk),
            ),
            (
                "POST /events CPU per event: API / projection process / PostgreSQL",
                " / ".join(f"{ms:.2f}" for ms in batch["cpu_ms"][:2])
                + (" / –" if len(batch["cpu_ms"]) == 1 else "")
                + f" / {batch['postgres_cpu_ms']:.2f} ms (with one process the projections run inside the API)",
                "",
                "",
                "",
            ),
            (
                "live lag, commit → visible in the read models",
                f"p50 {lag['p50']:.0f} ms, p95 {lag['p95']:.0f} ms, max {lag['max']:.0f} ms "
                f"({lag['probes']} probes, ~{lag['background']:.0f} commands/s beside)",
                TARGETS["lag"],
                "",
                "",
            ),
            (
                "live projections catching up with the import (before the HTTP load)",
                f"{initial['behind']:,} events in {initial['seconds']:.1f} s "
                f"({initial['behind'] / max(initial['seconds'], 1e-9):,.0f} events/s)",
                "",
                "",
                "",
            ),
            (
                "live projections after the writes above",
                f"{catch_up['behind']:,} events behind, caught up in {catch_up['seconds']:.1f} s "
                f"({catch_up['behind'] / max(catch_up['seconds'], 1e-9):,.0f} events/s)",
                "",
                "",
                "",
            ),
            (
                "POST /events accepted and visible in the read models (first batch sent → caught up)",
                f"{visible_rate(batch, catch_up):,.0f} events/s "
                f"({batch['seconds']:.1f} s + {catch_up['seconds']:.1f} s)",
                "",
                "",
                "",
            ),
            (
                "API server RSS (uvicorn's processes: the API processes and their manager)",
                f"{rss}; under command load {commands['rss']}",
                TARGETS["rss"],
                "",
                "",
            ),
        ]
        if projection_rss:
            rows.append(("projection process RSS (beside the API processes)", projection_rss, "", "", ""))
        lines += _table(rows)
        lines.append(f"\nload average after: {load_average()}")
        if commands["errors"]:
            lines.append("\nfirst errors: " + "; ".join(commands["errors"]))
        if args.projections:
            print(f"[{storage}] benchmarks.projections …", file=sys.stderr)
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.projections",
                    "--database-url",
                    database.url,
                    "--repeat",
                    "10",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            lines.append("\nbenchmarks.projections on the same database:\n" + done.stdout)
    finally:
        if not args.keep:
            database.drop()
    return lines


def _table(rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    header = ["| measure | result | target | raw ceiling | ratio |", "|---|---|---|---|---|"]
    return header + [f"| {' | '.join(row)} |" for row in rows]


def main(argv: list[str] | None = None) -> None:
    use_benchmark_master_key()
    parser = arguments(__doc__)
    parser.add_argument("--storage", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--size", choices=tuple(SIZES), default="small")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn worker processes (default: as many as `caseledger serve` starts on the storage)",
    )
    parser.add_argument(
        "--import-processes",
        type=int,
        default=None,
        help="`caseledger import --processes` (default: as many as `caseledger import` uses on the storage)",
    )
    parser.add_argument("--duration", type=float, default=0.0, help="seconds of HTTP command load")
    parser.add_argument("--projections", action="store_true", help="also run benchmarks.projections")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument(
        "--import-only", action="store_true", help="only the raw ceiling and `caseledger import` (no server)"
    )
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    storages = ("sqlite", "postgres") if args.storage == "both" else (args.storage,)
    with tempfile.TemporaryDirectory(prefix="caseledger-bench-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        output = [f"## caseledger write benchmarks ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC)"]
        for storage in storages:
            output += run_storage(storage, args, workdir)
        print("\n".join(output))


if __name__ == "__main__":
    main()
