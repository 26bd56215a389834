"""Key files: a secret in base64 on one line, made beside an SQLite database when none is
configured (the master key, the signing key)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def read_key_file(path: Path, origin: str, what: str, error: type[Exception]) -> str:
    """The text of the key file at ``path`` (named ``origin`` to the operator); ``error`` with a
    one-line reason when it cannot be read."""
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as problem:
        msg = f"cannot read the {what} from {origin} ({path}): {problem}"
        raise error(msg) from None


def make_key_file(path: Path, size: int) -> None:
    """A new key file of ``size`` random bytes at ``path``, readable by its owner only; when another
    process made it first, theirs is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(base64.b64encode(secrets.token_bytes(size)).decode() + "\n")


def key_file_beside(sqlite_path: str, name: str, size: int) -> tuple[Path, bool] | None:
    """The key file ``name`` beside the SQLite database at ``sqlite_path``, and whether it was
    missing (then made, of ``size`` random bytes); None for an in-memory database, which has
    nowhere to keep one."""
    if sqlite_path == ":memory:" or "mode=memory" in sqlite_path:
        return None
    path = Path(sqlite_path).parent / name
    missing = not path.exists()
    if missing:
        make_key_file(path, size)
    return path, missing
