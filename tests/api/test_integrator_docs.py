"""docs/integrators.md's examples, run as written: against a live API process, with a client
generated from that server's own document, one block after the other in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.api.generated_client import generated_client
from tests.reliability.server import ApiServer, admin_token

DOC = Path(__file__).parents[2] / "docs" / "integrators.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_integrators_guide_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 4
    database_url = f"sqlite:///{tmp_path / 'caseledger.sqlite'}"
    token = admin_token(database_url)
    server = ApiServer(database_url, tmp_path / "api.log")
    server.start()
    try:
        document = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
        with generated_client(document, tmp_path):
            monkeypatch.setenv("LEDGER_URL", server.base_url)
            monkeypatch.setenv("LEDGER_TOKEN", token)
            namespace: dict[str, object] = {}
            for number, block in enumerate(blocks, start=1):
                exec(compile(block, f"{DOC.name} block {number}", "exec"), namespace)
    finally:
        server.stop()
