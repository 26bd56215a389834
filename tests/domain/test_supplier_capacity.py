"""A supplier's stated capacity (face-to-face hours a week it can take on): a detail like the
others, advisory, and absent from events recorded before it existed. No I/O."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import InvalidInput
from domain.supplier import Supplier
from tests.domain.builders import MATCHER, a_supplier, refused, replay


def test_a_registered_supplier_states_no_capacity_and_its_events_replay_without_one() -> None:
    supplier = Supplier.register(
        supplier_id=uuid4(),
        name="Familiehuset ApS",
        cvr="12345674",
        contact={},
        target_groups=["0-17 years"],
        competencies=["family therapy"],
        education_levels=["social worker"],
        decided_by=MATCHER,
    )
    supplier.update_details(changes={"competencies": ["trauma"]}, decided_by=MATCHER)

    replayed = replay(list(supplier.collect_events()))

    assert replayed.capacity_hours_per_week is None
    assert replayed.competencies == ["trauma"]


def test_capacity_is_stated_and_removed_by_a_details_update() -> None:
    supplier = a_supplier()
    supplier.update_details(changes={"capacity_hours_per_week": "250.5"}, decided_by=MATCHER)
    supplier.update_details(changes={"capacity_hours_per_week": None}, decided_by=MATCHER)

    *_, stated, removed = supplier.collect_events()

    assert isinstance(stated, Supplier.DetailsUpdated)
    assert stated.changes == {"capacity_hours_per_week": Decimal("250.5")}
    assert removed.changes == {"capacity_hours_per_week": None}
    assert supplier.capacity_hours_per_week is None


@pytest.mark.parametrize(
    ("capacity", "problem"),
    [("0", "not-positive"), ("-1", "not-positive"), ("10000.01", "out-of-range"), ("1.005", None)],
)
def test_a_capacity_that_is_not_a_positive_exact_number_of_hours_is_refused(
    capacity: str, problem: str | None
) -> None:
    supplier = a_supplier()

    error = refused(
        supplier,
        lambda: supplier.update_details(changes={"capacity_hours_per_week": capacity}, decided_by=MATCHER),
        InvalidInput,
        problem or "too-many-decimals",
        "capacity_hours_per_week",
    )

    assert "capacity_hours_per_week" in str(error)
