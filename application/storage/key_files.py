"""Key files: a secret in base64 on one line, made beside an SQLite database when none is
configured (the master key, the signing key)."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

Key = TypeVar("Key")
MAKE_ONE = 'python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"'


def decode_base64(text: str, origin: str, error: type[Exception]) -> bytes:
    """The bytes of a key given in base64 by ``origin``; ``error`` saying how to make one when it is
    not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        msg = f"{origin} is not valid base64; make one with: {MAKE_ONE}"
        raise error(msg) from None


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


@dataclass(frozen=True)
class KeySource(Generic[Key]):
    """Where a key is found: the setting ``variable`` (base64), or the file named by
    ``<variable>_FILE``; neither, on SQLite, a file beside the database (``CASELEDGER_MASTER_KEY``:
    ``master.key``), made of ``size`` random bytes if missing, with a warning that says what it is
    ``made_for``."""

    variable: str
    parse: Callable[[str, str], Key]
    """The key from its base64 text and the name of where it came from."""
    error: type[Exception]
    log: logging.Logger
    made_for: str
    size: int = 32

    @property
    def what(self) -> str:
        """``master key`` for ``CASELEDGER_MASTER_KEY``."""
        return self.variable.removeprefix("CASELEDGER_").lower().replace("_", " ")

    @property
    def file_name(self) -> str:
        return self.what.replace(" ", ".")

    def configured(self, text: str, file: str) -> Key | None:
        """The key the settings give, or None when they give none."""
        if text.strip():
            return self.parse(text.strip(), self.variable)
        if file.strip():
            return self.read(Path(file.strip()), f"{self.variable}_FILE")
        return None

    def beside(self, sqlite_path: str) -> Key:
        """The key kept beside the SQLite database (made if missing); an in-memory database's
        key lives as long as the process."""
        found = key_file_beside(sqlite_path, self.file_name, self.size)
        if found is None:
            return self.parse(base64.b64encode(secrets.token_bytes(self.size)).decode(), "a new key")
        path, made = found
        if made:
            self.log.warning(
                "no %s configured: generated %s %s, or configure %s",
                self.variable,
                path,
                self.made_for,
                self.variable,
            )
        return self.read(path, str(path))

    def read(self, path: Path, origin: str) -> Key:
        return self.parse(read_key_file(path, origin, self.what, self.error), f"{origin} ({path})")
