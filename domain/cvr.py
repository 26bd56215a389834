"""CVR numbers: eight digits passing modulus 11 (docs/domain.md rule 6)."""

from __future__ import annotations

import random

from domain.errors import InvalidInput

_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def is_valid_cvr(cvr: str) -> bool:
    """Eight digits, not starting with 0, whose weighted sum is divisible by 11."""
    if len(cvr) != 8 or not cvr.isascii() or not cvr.isdigit() or cvr[0] == "0":
        return False
    return sum(int(d) * w for d, w in zip(cvr, _WEIGHTS, strict=True)) % 11 == 0


def fresh_cvr(rng: random.Random, taken: set[str]) -> str:
    """A valid CVR number drawn from ``rng`` that is not in ``taken``, added to it (generated data)."""
    while True:
        cvr = str(rng.randint(10_000_000, 99_999_999))
        if cvr not in taken and is_valid_cvr(cvr):
            taken.add(cvr)
            return cvr


def valid_cvr(cvr: str, field: str = "cvr") -> str:
    """Return the CVR number or refuse it."""
    if not is_valid_cvr(cvr):
        msg = f"{field} {cvr!r} is not a valid CVR number (8 digits, modulus 11)"
        raise InvalidInput("invalid-cvr", msg, field=field)
    return cvr
