"""The token cache: a live token is remembered within its TTL while the tokens' generation stands;
a revocation anywhere applies on the next authentication."""

from __future__ import annotations

from application.service.caseledger import CaseLedger
from application.storage.tokens import CachedTokenStore
from tests.storage import run_sql


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_token_revoked_by_another_store_stops_working_at_once(ledger: CaseLedger) -> None:
    clock = Clock()
    elsewhere = ledger.open_tokens()
    cache = CachedTokenStore(ledger.open_tokens(), ttl=60.0, clock=clock)
    secret = cache.create(role="caseworker", municipality="461", name="sofie").secret
    other = cache.create(role="caseworker", municipality="461", name="mads").secret
    assert cache.authenticate(secret) is not None
    assert cache.authenticate(other) is not None

    elsewhere.revoke("sofie")

    assert cache.authenticate(secret) is None  # within the TTL: the generation changed
    assert cache.authenticate(other) is not None


def test_the_generation_counts_every_change_to_the_tokens(ledger: CaseLedger, db_url: str) -> None:
    store = ledger.open_tokens()
    before = store.generation()
    store.create(role="auditor", municipality="101", name="a")
    store.revoke("a")
    store.revoke("a")  # already revoked: nothing changes, but the statement ran
    assert store.generation() > before + 1
    changed = store.generation()
    run_sql(db_url, "UPDATE caseledger_tokens SET role = 'reporter' WHERE name = 'a'")  # by hand
    assert store.generation() > changed


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


def test_a_live_token_is_looked_up_once_per_ttl_while_the_generation_stands(ledger: CaseLedger) -> None:
    clock = Clock()
    store = ledger.open_tokens()
    looked_up: list[str] = []
    look_up = store.authenticate
    store.authenticate = lambda secret: looked_up.append(secret) or look_up(secret)  # type: ignore[method-assign]
    cache = CachedTokenStore(store, ttl=5.0, clock=clock)
    issued = cache.create(role="matcher", municipality="461", name="mads")

    for _ in range(3):
        assert cache.authenticate(issued.secret) == issued.token
    assert len(looked_up) == 1
    clock.now += 5.1
    assert cache.authenticate(issued.secret) == issued.token
    assert len(looked_up) == 2
    cache.create(role="reporter", municipality="461", name="new")  # a change: the generation moves on
    assert cache.authenticate(issued.secret) == issued.token
    assert len(looked_up) == 3
