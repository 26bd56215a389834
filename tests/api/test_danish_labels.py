"""The dashboard's Danish labels name exactly the domain's values: a close reason or status added to
(or dropped from) the domain without its label would show the raw name, or a stale one, in Danish."""

from __future__ import annotations

from api.dashboard import vocabulary
from domain import referral


def test_every_close_reason_and_only_those_has_a_danish_label_in_the_domains_order() -> None:
    assert tuple(vocabulary.CLOSE_REASONS) == referral.CLOSE_REASONS
    assert all(label.strip() for label in vocabulary.CLOSE_REASONS.values())


def test_every_status_and_only_those_has_a_danish_label_in_the_domains_order() -> None:
    assert tuple(vocabulary.STATUSES) == referral.STATUSES
    assert all(label.strip() for label in vocabulary.STATUSES.values())
