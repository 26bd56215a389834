"""Generate a Python client from an OpenAPI document with openapi-python-client, as an integrator
would (tests/api/test_generated_client.py, tests/api/test_integrator_docs.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PACKAGE = "caseledger_client"


@contextmanager
def generated_client(document: dict[str, Any], where: Path) -> Iterator[Path]:
    """Generate package ``caseledger_client`` into ``where`` from ``document`` and make it
    importable while the context lasts; the generator must print no warning."""
    (where / "openapi.json").write_text(json.dumps(document))
    (where / "config.yaml").write_text("post_hooks: []\n")
    command = [str(Path(sys.executable).parent / "openapi-python-client"), "generate"]
    command += ["--path", str(where / "openapi.json"), "--config", str(where / "config.yaml")]
    command += ["--meta", "none", "--output-path", str(where / PACKAGE)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output, output
    sys.path.insert(0, str(where))
    try:
        yield where / PACKAGE
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]
