"""The token cache: a live token is looked up once per TTL; revocations elsewhere apply within it."""

from __future__ import annotations

from application.caseledger import CaseLedger
from application.tokens import CachedTokenStore


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_revoked_by_another_process_stops_working_within_the_ttl(ledger: CaseLedger) -> None:
    clock = Clock()
    elsewhere = ledger.open_tokens()
    cache = CachedTokenStore(ledger.open_tokens(), ttl=5.0, clock=clock)
    secret = cache.create(role="caseworker", municipality="461", name="sofie").secret
    assert cache.authenticate(secret) is not None

    elsewhere.revoke("sofie")
    clock.now += 4.9
    assert cache.authenticate(secret) is not None  # still remembered
    clock.now += 0.2
    assert cache.authenticate(secret) is None  # looked up again: revoked


def test_a_revocation_through_the_cache_applies_at_once(ledger: CaseLedger) -> None:
    cache = CachedTokenStore(ledger.open_tokens(), ttl=60.0, clock=Clock())
    secret = cache.create(role="auditor", municipality="*", name="audit").secret
    assert cache.authenticate(secret) is not None
    cache.revoke("audit")
    assert cache.authenticate(secret) is None


def test_unknown_tokens_are_not_remembered(ledger: CaseLedger) -> None:
    cache = CachedTokenStore(ledger.open_tokens(), ttl=60.0, clock=Clock())
    assert cache.authenticate("not-a-token") is None
    token = ledger.open_tokens().create(role="reporter", municipality="101", name="late")
    assert cache.authenticate(token.secret) == token.token


def test_remembered_answers_only_from_the_cache_and_only_within_the_ttl(ledger: CaseLedger) -> None:
    clock = Clock()
    cache = CachedTokenStore(ledger.open_tokens(), ttl=5.0, clock=clock)
    issued = cache.create(role="matcher", municipality="461", name="mads")
    assert cache.remembered(issued.secret) is None  # never looked up: the caller asks the database

    assert cache.authenticate(issued.secret) == issued.token
    assert cache.remembered(issued.secret) == issued.token
    clock.now += 5.1
    assert cache.remembered(issued.secret) is None
    assert ledger.open_tokens().remembered(issued.secret) is None  # an uncached store remembers nothing
