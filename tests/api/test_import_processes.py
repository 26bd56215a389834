"""``caseledger import`` with worker processes: stopped by Ctrl-C or by a worker's death."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

import pytest

from api.import_pool import ImportPool, ImportWorkerFailed
from application.service.caseledger import CaseLedger
from tests.api import bodies
from tests.api.test_idempotency_and_concurrency import item
from tests.api.test_import_cli import write_lines
from tests.storage import storage_env


def referral_lines(referrals: int) -> list[dict[str, Any]]:
    """A supplier and its price list, then ``referrals`` referrals referred and matched to it."""
    supplier_id = str(uuid.uuid4())
    lines = [
        item("s-1", "supplier.registered", bodies.supplier(), supplier_id=supplier_id),
        item("s-2", "supplier.price_list_negotiated", bodies.price_list(), supplier_id=supplier_id),
    ]
    for n in range(referrals):
        referral_id = str(uuid.uuid4())
        lines += [
            item(f"r{n}-1", "referral.referred", bodies.referral(), referral_id=referral_id),
            item(f"r{n}-2", "referral.matched", bodies.match(supplier_id), referral_id=referral_id),
        ]
    return lines


def last_position(db_url: str) -> int:
    ledger = CaseLedger(storage_env(db_url))
    try:
        return ledger.last_position()
    finally:
        ledger.close()


def stored_events(db_url: str) -> int:
    """How many events are stored (counted: positions may have gaps)."""
    ledger = CaseLedger(storage_env(db_url))
    try:
        count, start = 0, 1
        while page := ledger.recorder.select_notifications(start, 10_000):
            count += len(page)
            start = page[-1].id + 1
        return count
    finally:
        ledger.close()


def group_alive(group: int, *, seconds: float) -> list[str]:
    """The command lines of the process group's members still running after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        members = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == group:
                        members.append((entry / "cmdline").read_text().replace("\0", " "))
                except (ProcessLookupError, OSError):
                    continue
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.1)


def import_command(
    db_url: str, path: Path | None, *options: str, sigint_ignored: bool = False
) -> subprocess.Popen[str]:
    """``caseledger import`` of ``path``, or of its stdin (a pipe) when ``path`` is ``None``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import main; main()",
            "import",
            "-" if path is None else str(path),
            *options,
        ],
        env={**os.environ, "CASELEDGER_DATABASE_URL": db_url, "COLUMNS": "200"},
        stdin=subprocess.PIPE if path is None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which Ctrl-C in a terminal signals whole
        # As a shell starts a background job (``caseledger import … &``): Python keeps an
        # inherited SIG_IGN for SIGINT, and the import ran to its end through a Ctrl-C.
        preexec_fn=ignore_sigint if sigint_ignored else None,  # noqa: PLW1509 - nothing else runs
    )


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_ctrl_c_stops_every_worker_and_a_rerun_imports_exactly_the_rest(db_url: str, tmp_path: Path) -> None:
    lines = referral_lines(2_000)
    path = write_lines(tmp_path / "events.jsonl", lines)
    head = "".join(json.dumps(line) + "\n" for line in lines[:1_002])
    # The import reads a pipe that holds the rest back: it cannot end before the Ctrl-C.
    importing = import_command(db_url, None, "--processes", "2", "--chunk", "100", sigint_ignored=True)
    assert importing.stdin is not None
    writer = threading.Thread(target=write_quietly, args=(importing.stdin, head), daemon=True)
    writer.start()
    deadline = time.monotonic() + 60
    while last_position(db_url) < 500:
        assert importing.poll() is None, importing.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)

    os.killpg(importing.pid, signal.SIGINT)
    writer.join(timeout=60)
    out, err = importing.communicate(timeout=60)

    assert importing.returncode == 2, (out, err)
    assert "import stopped, interrupted" in err
    assert "Traceback" not in err  # the workers ignore Ctrl-C; the coordinator stops them
    assert not group_alive(importing.pid, seconds=10)  # no worker is left behind
    before = stored_events(db_url)
    assert 500 <= before <= 1_002

    rerun = import_command(db_url, path, "--processes", "2")
    out, err = rerun.communicate(timeout=120)

    assert rerun.returncode == 0, (out, err)
    assert f"{len(lines) - before:,} accepted, {before:,} duplicates, 0 rejected" in out
    assert stored_events(db_url) == len(lines)


def write_quietly(stream: IO[str], text: str) -> None:
    """Write ``text`` to the import's stdin, which it may close (stopped) before reading it all."""
    with contextlib.suppress(BrokenPipeError):
        stream.write(text)
        stream.flush()


def test_a_worker_that_dies_stops_the_import_with_an_error(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASELEDGER_DATABASE_URL", db_url)
    CaseLedger(storage_env(db_url)).close()  # the tables, as the import's own process makes them
    pool = ImportPool(2, None)
    try:
        pool.workers[1].kill()
        pool.workers[1].join()
        chunk = [(number, line, None) for number, line in enumerate(referral_lines(32), start=1)]
        with pytest.raises(ImportWorkerFailed, match="import worker 1 exited"):
            list(pool.outcomes([chunk]))
    finally:
        pool.close()


def test_a_file_of_rejections_answered_in_large_chunks_finishes(db_url: str, tmp_path: Path) -> None:
    # Each worker answers a chunk of 3,000 rejections with all their problems, more than a pipe
    # holds, while the coordinator sends it the next chunk, also more than a pipe holds.
    lines = [
        item(f"x{n}", "referral.extended", {"new_end": "2026-05-01"}, referral_id=str(uuid.uuid4()))
        for n in range(12_000)
    ]
    path = write_lines(tmp_path / "events.jsonl", lines)

    importing = import_command(db_url, path, "--processes", "2", "--chunk", "3000")
    try:
        out, err = importing.communicate(timeout=60)
    finally:
        if importing.poll() is None:  # stuck: fail without leaving its processes behind
            os.killpg(importing.pid, signal.SIGKILL)

    assert "12,000 lines" in out, (out, err)
    assert "0 accepted, 0 duplicates, 12,000 rejected" in out
    assert "  line 1 (event_id x0): 422 invalid-input: " in out
