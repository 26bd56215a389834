"""How many API processes ``caseledger serve`` starts by itself (``Settings.serve_processes``)."""

from __future__ import annotations

import os

import pytest

from api import settings as settings_module
from api.settings import DEFAULT_MAX_WORKERS, Settings


@pytest.mark.parametrize(("cores", "expected"), [(1, 1), (2, 2), (3, 3), (16, DEFAULT_MAX_WORKERS)])
@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1/test", " postgres://db/x?schema=s"])
def test_on_postgresql_one_api_process_per_available_core_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch, url: str, cores: int, expected: int
) -> None:
    monkeypatch.setattr(settings_module, "available_cores", lambda: cores)
    assert Settings(database_url=url, workers=None).serve_processes() == expected


@pytest.mark.parametrize("url", ["", "sqlite:///x.sqlite", "sqlite:////tmp/y.sqlite"])
def test_on_sqlite_one_process_however_many_cores(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(settings_module, "available_cores", lambda: 16)
    assert Settings(database_url=url, workers=None).serve_processes() == 1


def test_workers_set_are_taken_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings_module, "available_cores", lambda: 2)
    assert Settings(database_url="postgresql://db/x", workers=6).serve_processes() == 6
    assert Settings(database_url="sqlite:///x.sqlite", workers=2).serve_processes() == 2


def test_the_available_cores_are_those_this_process_may_run_on() -> None:
    assert 1 <= settings_module.available_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("url", "cores", "expected"),
    [
        ("postgresql://db/x", 2, 2),
        ("postgresql://db/x", 16, 3),
        ("sqlite:///x.sqlite", 16, 3),
        ("sqlite:///x.sqlite", 1, 1),
    ],
)
def test_caseledger_import_checks_items_in_one_process_per_core_on_either_storage_whatever_workers_says(
    monkeypatch: pytest.MonkeyPatch, url: str, cores: int, expected: int
) -> None:
    monkeypatch.setattr(settings_module, "available_cores", lambda: cores)
    assert Settings(database_url=url, workers=5).import_processes() == expected
