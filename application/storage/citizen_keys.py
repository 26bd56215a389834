"""Storage of the citizens' data keys (one per citizen and municipality), the citizen → referral
index and the erasure records.

Tables, in the event store's own database (SQLite file or PostgreSQL schema):

- ``caseledger_citizen_keys(key_id, blind_index UNIQUE, wrapped_key, created_at, municipality)``: one
  data key per citizen and municipality, wrapped (encrypted) under the master key; ``blind_index`` is
  a keyed hash of the municipality and the ``citizen_ref`` (see ``application.privacy.master_key``), so the
  same citizen finds the same key in one municipality, and the keys of one citizen in two
  municipalities cannot be told to belong together, all without the ``citizen_ref`` being stored.
  ``municipality`` NULL marks a *shared* key, made before the keys per municipality: one per
  citizen, for all their referrals in every municipality, found by a hash of the ``citizen_ref``
  alone. New referrals are never sealed with a shared key; it is kept for the referrals it sealed;
- ``caseledger_citizen_referrals(referral_id, key_id, position)``: which referrals were sealed with
  which key, written by the recorders in the same transaction as the ``referral.referred`` event;
- ``caseledger_erased_referrals(referral_id, key_id, erasure_id)``: referrals sealed with a shared key
  whose municipality erased the citizen while the key still serves another municipality's
  referrals: they read ``"erased"`` (withheld), and the key is destroyed when its last referral is;
- ``caseledger_erasures(erasure_id, key_id, blind_index, referral_ids, erased_at, actor, reason,
  municipality, shared_key_id)``: that an erasure happened, without personal data;
- ``caseledger_crypto(name, value)``: the master key's check value (never the key).

Destroying a key is physical: on SQLite every connection that touches the keys runs with
``PRAGMA secure_delete=ON`` (deleted and freed content is overwritten with zeros) and the write-ahead
log is checkpointed and truncated after an erasure; on PostgreSQL the keys table is rewritten with
``VACUUM FULL`` after an erasure, so the dead row's bytes leave the table's files.

A store made before the keys per municipality is upgraded when opened: the two new columns are
added (NULL for what exists) and the table of erased referrals is made.

The SQL of each database is in ``application.storage.citizen_keys_dialects``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, Protocol

KEYS = "caseledger_citizen_keys"
LINKS = "caseledger_citizen_referrals"
ERASURES = "caseledger_erasures"
ERASED_REFERRALS = "caseledger_erased_referrals"
META = "caseledger_crypto"
PURGE_TIMEOUT = 30.0


NewCitizenKey = tuple[str, str, bytes, str, str | None]
"""A data key to store with the events it sealed: ``(key_id, blind_index, wrapped_key, created_at,
municipality)`` (municipality None only for a shared key of the old form)."""

ADDED_COLUMNS = ((KEYS, "municipality"), (ERASURES, "municipality"), (ERASURES, "shared_key_id"))
"""The columns the keys per municipality added to tables that existed before (all nullable text)."""

INSERT_ORDER = itemgetter(1)
"""The order every transaction inserts new data keys in: by blind index (the second item of a
proposal or a ``NewCitizenKey``). Two processes making keys for the same citizens in different
orders would each wait for the other's uncommitted row (a deadlock); in one order, the later waits
and then meets the earlier's key."""


class _Cursor(Protocol):
    def execute(self, *args: Any, **kwargs: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> Any: ...


@dataclass(frozen=True)
class ErasureRecord:
    """An erasure as recorded: which key went, which referrals it sealed, when, who, why."""

    erasure_id: str
    key_id: str
    referral_ids: list[str]
    erased_at: str
    actor: str
    reason: str
    purged: bool = True
    municipality: str | None = None
    """Whose erasure (None: one made before the keys per municipality, for every municipality)."""

    def as_dict(self) -> dict[str, Any]:
        """The erasure as answered; whether it is purged is the caller's to say, whose it is not said."""
        return {name: value for name, value in asdict(self).items() if name not in {"purged", "municipality"}}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class CitizenKeyStore:
    """Key rows, referral links and erasure records. Subclasses say how SQL reaches the database."""

    dialect = ""
    purge_timeout = PURGE_TIMEOUT
    """How long ``purge`` waits for transactions older than the erasure to end."""

    def _transaction(self, *, write: bool = True) -> Any:
        raise NotImplementedError

    def _sql(self, statement: str) -> Any:
        raise NotImplementedError

    def purge(self) -> bool:
        """Make deleted key rows physically unrecoverable from the database files; True when done."""
        raise NotImplementedError

    # -- the master key's check value ---------------------------------------------------------------

    def check_value(self, proposed: str) -> str:
        """The stored check value of the master key, storing ``proposed`` if there is none yet."""
        with self._transaction() as cur:
            cur.execute(
                self._sql("INSERT INTO {meta} (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"),
                ("master_key_check", proposed),
            )
            cur.execute(self._sql("SELECT value FROM {meta} WHERE name = ?"), ("master_key_check",))
            row = cur.fetchone()
        return str(row["value"])

    # -- keys --------------------------------------------------------------------------------------

    def ensure_keys(self, proposed: Sequence[tuple[str, str, bytes, str]]) -> dict[str, tuple[str, bytes]]:
        """``{blind_index: (key_id, wrapped_key)}`` for each proposed ``(key_id, blind_index, wrapped,
        municipality)``; an index that has a key already keeps it (the proposal is dropped)."""
        if not proposed:
            return {}
        with self._transaction() as cur:
            for key_id, blind_index, wrapped, municipality in sorted(proposed, key=INSERT_ORDER):
                cur.execute(
                    self._sql(
                        "INSERT INTO {keys} (key_id, blind_index, wrapped_key, created_at, municipality) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (blind_index) DO NOTHING"
                    ),
                    (key_id, blind_index, wrapped, now(), municipality),
                )
            indexes = [p[1] for p in proposed]
            found = self._select_in(
                cur, "SELECT key_id, blind_index, wrapped_key FROM {keys}", "blind_index", indexes
            )
        return {row["blind_index"]: (row["key_id"], bytes(row["wrapped_key"])) for row in found}

    def find_keys(self, blind_indexes: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        """``{blind_index: (key_id, wrapped_key)}`` of the citizens among ``blind_indexes`` with a key."""
        if not blind_indexes:
            return {}
        with self._transaction(write=False) as cur:
            found = self._select_in(
                cur, "SELECT key_id, blind_index, wrapped_key FROM {keys}", "blind_index", list(blind_indexes)
            )
        return {row["blind_index"]: (row["key_id"], bytes(row["wrapped_key"])) for row in found}

    def find_key(self, blind_index: str) -> tuple[str, bytes] | None:
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql("SELECT key_id, wrapped_key FROM {keys} WHERE blind_index = ?"), (blind_index,)
            )
            row = cur.fetchone()
        return (row["key_id"], bytes(row["wrapped_key"])) if row else None

    def wrapped_keys(self, key_ids: Sequence[str]) -> dict[str, tuple[bytes, bool]]:
        """``{key_id: (wrapped_key, shared)}`` of the keys that still exist among ``key_ids``;
        ``shared``: a key of the old form, for a citizen in every municipality."""
        if not key_ids:
            return {}
        with self._transaction(write=False) as cur:
            found = self._select_in(
                cur, "SELECT key_id, wrapped_key, municipality FROM {keys}", "key_id", list(key_ids)
            )
        return {row["key_id"]: (bytes(row["wrapped_key"]), row["municipality"] is None) for row in found}

    def municipalities(self) -> list[str]:
        """The municipalities that have keys of their own."""
        with self._transaction(write=False) as cur:
            cur.execute(self._sql("SELECT DISTINCT municipality FROM {keys} WHERE municipality IS NOT NULL"))
            return sorted(str(row["municipality"]) for row in cur.fetchall())

    def linked(self, referral_ids: Sequence[str]) -> set[str]:
        """Those of ``referral_ids`` still linked to the data key that sealed them (not erased)."""
        return self._referrals_in("SELECT referral_id FROM {links}", referral_ids)

    def erased_referrals(self, referral_ids: Sequence[str]) -> set[str]:
        """Those of ``referral_ids`` (sealed with a shared key) that their municipality erased."""
        return self._referrals_in("SELECT referral_id FROM {erased}", referral_ids)

    def _referrals_in(self, select: str, referral_ids: Sequence[str]) -> set[str]:
        """Those of ``referral_ids`` that ``select`` (of ``referral_id`` from one table) finds."""
        if not referral_ids:
            return set()
        with self._transaction(write=False) as cur:
            found = self._select_in(cur, select, "referral_id", sorted(set(referral_ids)))
        return {str(row["referral_id"]) for row in found}

    def _select_in(self, cur: _Cursor, select: str, column: str, values: list[str]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            marks = ",".join("?" * len(chunk))
            cur.execute(self._sql(f"{select} WHERE {column} IN ({marks})"), chunk)
            rows.extend(cur.fetchall())
        return rows

    # -- links -------------------------------------------------------------------------------------

    def referral_ids(self, key_id: str) -> list[str]:
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql("SELECT referral_id FROM {links} WHERE key_id = ? ORDER BY position"), (key_id,)
            )
            return [str(row["referral_id"]) for row in cur.fetchall()]

    def links(self, key_ids: Sequence[str]) -> list[tuple[str, str, int]]:
        """``(referral_id, key_id, position)`` of the referrals sealed with ``key_ids``, in filing order."""
        if not key_ids:
            return []
        with self._transaction(write=False) as cur:
            found = self._select_in(
                cur, "SELECT referral_id, key_id, position FROM {links}", "key_id", list(key_ids)
            )
        return sorted(
            ((str(row["referral_id"]), str(row["key_id"]), int(row["position"])) for row in found),
            key=itemgetter(2),
        )

    # -- erasure -----------------------------------------------------------------------------------

    def erase(
        self,
        record: ErasureRecord,
        blind_index: str,
        *,
        own_key: str | None,
        shared_key: str | None = None,
        shared_referrals: Sequence[str] = (),
    ) -> ErasureRecord | None:
        """Erase one municipality's data of a citizen in one transaction, and record the erasure:
        destroy ``own_key`` (the key of the citizen in that municipality) with its links; and, of a
        shared key of the old form, mark ``shared_referrals`` (that municipality's referrals it
        sealed) erased and drop their links, destroying the shared key too once no referral of any
        municipality needs it any more. None when a concurrent erasure was first (nothing changed)."""
        try:
            with self._transaction() as cur:
                referrals: list[tuple[str, int]] = []
                if own_key is not None:
                    cur.execute(self._sql("DELETE FROM {keys} WHERE key_id = ?"), (own_key,))
                    if not _deleted(cur):
                        raise _Overtaken
                    cur.execute(
                        self._sql("SELECT referral_id, position FROM {links} WHERE key_id = ?"), (own_key,)
                    )
                    referrals += [(str(r["referral_id"]), int(r["position"])) for r in cur.fetchall()]
                    cur.execute(self._sql("DELETE FROM {links} WHERE key_id = ?"), (own_key,))
                if shared_key is not None and shared_referrals:
                    referrals += self._withhold(cur, record.erasure_id, shared_key, list(shared_referrals))
                referral_ids = [i for i, _ in sorted(referrals, key=itemgetter(1))]
                referral_ids += [i for i in record.referral_ids if i not in referral_ids]
                cur.execute(
                    self._sql(
                        "INSERT INTO {erasures} (erasure_id, key_id, blind_index, referral_ids, erased_at, "
                        "actor, reason, municipality, shared_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (
                        record.erasure_id,
                        record.key_id,
                        blind_index,
                        json.dumps(referral_ids),
                        record.erased_at,
                        record.actor,
                        record.reason,
                        record.municipality,
                        shared_key,
                    ),
                )
        except _Overtaken:
            return None
        return ErasureRecord(
            record.erasure_id,
            record.key_id,
            referral_ids,
            record.erased_at,
            record.actor,
            record.reason,
            municipality=record.municipality,
        )

    def _withhold(
        self, cur: _Cursor, erasure_id: str, shared_key: str, referral_ids: list[str]
    ) -> list[tuple[str, int]]:
        """Mark ``referral_ids`` of ``shared_key`` erased; destroy the key when they were its last."""
        self._lock_key(cur, shared_key)
        found = self._select_in(cur, "SELECT referral_id, position FROM {links}", "referral_id", referral_ids)
        mine = [(str(r["referral_id"]), int(r["position"])) for r in found]
        if len(mine) != len(referral_ids):  # a concurrent erasure of the same municipality was first
            raise _Overtaken
        for referral_id in referral_ids:
            cur.execute(self._sql("DELETE FROM {links} WHERE referral_id = ?"), (referral_id,))
            cur.execute(
                self._sql("INSERT INTO {erased} (referral_id, key_id, erasure_id) VALUES (?, ?, ?)"),
                (referral_id, shared_key, erasure_id),
            )
        cur.execute(self._sql("SELECT count(*) AS n FROM {links} WHERE key_id = ?"), (shared_key,))
        if int(cur.fetchone()["n"]) == 0:
            cur.execute(self._sql("DELETE FROM {keys} WHERE key_id = ?"), (shared_key,))
        return mine

    def _lock_key(self, cur: _Cursor, key_id: str) -> None:
        """Hold ``key_id``'s row until the transaction ends (two erasures of one shared key in turn).
        On SQLite a write takes the database's one write lock before anything is read (a deferred
        transaction that read first could not write after a concurrent one did)."""
        cur.execute(self._sql("UPDATE {keys} SET key_id = key_id WHERE key_id = ?"), (key_id,))

    def last_erasure(self, blind_index: str) -> ErasureRecord | None:
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(
                    "SELECT erasure_id, key_id, referral_ids, erased_at, actor, reason, municipality "
                    "FROM {erasures} WHERE blind_index = ? ORDER BY erased_at DESC LIMIT 1"
                ),
                (blind_index,),
            )
            row = cur.fetchone()
        return _record(row) if row else None

    def erasures(self) -> list[ErasureRecord]:
        """Every erasure, oldest first."""
        with self._transaction(write=False) as cur:
            cur.execute(
                self._sql(
                    "SELECT erasure_id, key_id, referral_ids, erased_at, actor, reason, municipality "
                    "FROM {erasures} ORDER BY erased_at"
                )
            )
            return [_record(row) for row in cur.fetchall()]


class _Overtaken(Exception):
    """A concurrent erasure changed what this one was about to erase: roll back and look again."""


def _deleted(cur: Any) -> bool:
    """Whether the last statement changed a row (eventsourcing's SQLite cursor wraps sqlite3's)."""
    return bool(getattr(getattr(cur, "sqlite_cursor", cur), "rowcount", 0))


def _record(row: Any) -> ErasureRecord:
    return ErasureRecord(
        erasure_id=str(row["erasure_id"]),
        key_id=str(row["key_id"]),
        referral_ids=list(json.loads(row["referral_ids"])),
        erased_at=str(row["erased_at"]),
        actor=str(row["actor"]),
        reason=str(row["reason"]),
        municipality=None if row["municipality"] is None else str(row["municipality"]),
    )
