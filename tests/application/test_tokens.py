"""Bearer tokens: looked up by the SHA-256 hash of the presented secret, the hash compared in constant time.

Why this is safe against timing attacks: the database index is searched with the hash of what the
client sent, never with the secret, so how long a lookup takes says nothing about how much of a real
secret a guess shares (a guess one character off has an unrelated hash). The stored hash found is then
compared once more with ``hmac.compare_digest``. No secret is ever compared with ``==``.
"""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from application.service.caseledger import CaseLedger
from application.storage import tokens
from application.storage.tokens import token_hash


def test_a_secret_is_looked_up_by_its_hash_and_compared_in_constant_time(
    ledger: CaseLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ledger.open_tokens()
    issued = store.create(role="auditor", municipality="461", name="constant-time")
    compared: list[tuple[Any, Any]] = []
    real_compare = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)

    assert store.authenticate(issued.secret) == issued.token
    assert compared == [(token_hash(issued.secret), token_hash(issued.secret))]

    compared.clear()
    near_miss = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
    assert store.authenticate(near_miss) is None
    assert store.authenticate("") is None
    assert compared == [], "an unknown hash is not found by the index, so nothing is compared"
