"""The hash chains' links, made by the recorders as they store each event.

Every stored event is covered when it is recorded, in the events' own transaction, by a row in
``caseledger_chain``:

- ``stream_hash`` = sha256(previous stream_hash of that aggregate ‖ originator_id ‖ version ‖
  topic ‖ state bytes) — the per-aggregate chain; the previous hash is that of version − 1, or 32
  zero bytes for the first covered version;
- ``global_hash`` = sha256(previous global_hash ‖ position ‖ stream_hash) — one chain over all
  positions, in position order; its last row is the *head*, which can be exported and kept outside
  the database, so that even a rewrite of the whole chain table can be noticed later.

Fields are length-prefixed (fixed-size integers, sized byte strings), so no two different inputs
hash alike. The rows read back here are what the verifier (``application.audit.chain``) checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

CHAIN_TABLE = "caseledger_chain"
GENESIS = bytes(32)
STREAM_DOMAIN = b"caseledger/stream/v1\x00"
GLOBAL_DOMAIN = b"caseledger/global/v1\x00"


def stream_hash(previous: bytes, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """The per-aggregate link for one stored event."""
    encoded_topic = topic.encode()
    digest = hashlib.sha256(STREAM_DOMAIN)
    digest.update(previous)
    digest.update(originator_id.bytes)
    digest.update(version.to_bytes(8, "big", signed=True))
    digest.update(len(encoded_topic).to_bytes(4, "big"))
    digest.update(encoded_topic)
    digest.update(len(state).to_bytes(8, "big"))
    digest.update(state)
    return digest.digest()


def global_hash(previous: bytes, position: int, stream: bytes) -> bytes:
    """The global link for the event at ``position`` whose stream link is ``stream``."""
    digest = hashlib.sha256(GLOBAL_DOMAIN)
    digest.update(previous)
    digest.update(position.to_bytes(8, "big", signed=True))
    digest.update(stream)
    return digest.digest()


@dataclass(frozen=True)
class StoredRow:
    """A stored event as the verifier reads it."""

    originator_id: UUID
    version: int
    topic: str
    state: bytes
    position: int


@dataclass(frozen=True)
class ChainRow:
    """A row of ``caseledger_chain`` (hashes as 64 hex digits)."""

    position: int
    originator_id: UUID
    version: int
    stream_hash: str
    global_hash: str


@dataclass(frozen=True)
class NewEvent:
    """An event being recorded: what the recorder hashes."""

    originator_id: UUID
    version: int
    topic: str
    state: bytes
    position: int


def link(
    events: Sequence[NewEvent], previous_stream: dict[UUID, bytes], previous_global: bytes
) -> list[tuple[int, UUID, int, str, str]]:
    """The chain rows ``(position, originator_id, version, stream_hash, global_hash)`` of a batch.

    ``previous_stream`` maps each stream to the hash of the version before its first event in the
    batch (absent: genesis); ``previous_global`` is the head before the batch.
    """
    rows = []
    last_of_stream: dict[UUID, tuple[int, bytes]] = {}
    head = previous_global
    for event in sorted(events, key=lambda e: e.position):
        before = last_of_stream.get(event.originator_id)
        if before is not None and before[0] == event.version - 1:
            previous = before[1]
        else:
            previous = previous_stream.get(event.originator_id, GENESIS)
        link_hash = stream_hash(previous, event.originator_id, event.version, event.topic, event.state)
        head = global_hash(head, event.position, link_hash)
        last_of_stream[event.originator_id] = (event.version, link_hash)
        rows.append((event.position, event.originator_id, event.version, link_hash.hex(), head.hex()))
    return rows
