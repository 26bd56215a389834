"""The store of aggregates kept between batches: one owner at a time, bounded, never stale."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from application.privacy.envelopes import WITHHELD
from application.service.kept_aggregates import KeptAggregates


class Note(Aggregate):
    def __init__(self, citizen_ref: str) -> None:
        self.citizen_ref = citizen_ref

    @event("Noted")
    def note(self) -> None:
        pass


def stored(*notes: Note) -> list[Note]:
    for note in notes:
        note.collect_events()
    return list(notes)


def test_a_copy_is_taken_once_and_only_at_its_stored_version() -> None:
    kept = KeptAggregates()
    first, second = stored(Note("C-1"), Note("C-2"))
    kept.put([first, second])

    assert kept.take(first.id, 1) is first
    assert kept.take(first.id, 1) is None  # taken: the batch that took it owns it
    assert kept.take(second.id, 2) is None  # another version was stored meanwhile
    assert kept.take(second.id, 1) is None  # and the stale copy is gone


def test_copies_with_unstored_events_are_not_kept_and_personal_fields_are_withheld() -> None:
    kept = KeptAggregates()
    clean, dirty = stored(Note("C-3"), Note("C-4"))
    dirty.note()
    kept.put([clean, dirty])

    assert kept.take(dirty.id, dirty.version) is None
    taken = kept.take(clean.id, 1)
    assert taken is not None and taken.citizen_ref == WITHHELD


def test_the_oldest_copies_go_first_beyond_the_limit() -> None:
    kept = KeptAggregates(limit=2)
    notes = stored(Note("a"), Note("b"), Note("c"))
    for note in notes:
        kept.put([note])

    assert kept.take(notes[0].id, 1) is None
    assert [kept.take(note.id, 1) is note for note in notes[1:]] == [True, True]
