"""Personal data at rest: envelope encryption with a data key per citizen, and crypto-erasure.

A ``referral.referred`` event carries three personal fields: ``citizen_ref``, ``case_ref`` and
``purpose``. The mapper stores each as an *envelope*::

    enc:v1:<key_id>:<base64url(nonce ‖ AES-256-GCM ciphertext)>

sealed with the citizen's data key (DEK); the associated data binds the envelope to its referral
and field (``caseledger/field/v1|<referral_id>|<field>``), so an envelope copied to another referral
or field does not open. ``case_ref`` absent stays absent.

Each citizen has one DEK (32 random bytes) per municipality that filed referrals for them, kept in
``caseledger_citizen_keys`` wrapped under the master key (the KEK, from configuration, never in the
database) and found again by a *blind index*, HMAC-SHA256 of the municipality and the
``citizen_ref`` under a key derived from the master key: the indexes of one citizen in two
municipalities are unrelated, so one municipality's lookup says nothing of another's. The master
key itself derives five keys (HKDF-SHA256): one wraps DEKs, one makes blind indexes, one made the
blind indexes of the old form (``citizen_ref`` alone, before the keys per municipality), one makes
the check value stored to recognise a wrong master key before anything is decrypted, and one makes
the case indexes a referral is found by its ``case_ref`` with (``application.privacy.case_index``).

Each municipality is its own data controller. Its erasure of a citizen destroys the citizen's DEK of
that municipality, so the events, and with them the hash chains, stay exactly as stored, and the
personal fields of that municipality's referrals read as ``"erased"`` everywhere: state, events,
trail, feed and the projections (which only ever hold envelopes and are revealed when read). The
citizen's referrals in another municipality are sealed with another key and stay readable there.

A *shared* key of the old form (one per citizen, made before the keys per municipality) may have
sealed referrals of several municipalities. An erasure by one of them cannot destroy it without
destroying the others' data: that municipality's referrals are then marked erased (withheld, see
``application.storage.citizen_keys``) and read ``"erased"`` like the rest, and the key is destroyed
only with the last referral that needs it. Until then their ciphertext can still be opened by whoever holds
both the database and the master key: withheld, not crypto-erased.

Here: the envelopes themselves. The master key is in ``application.privacy.master_key``, the
keyring that finds and opens data keys in ``application.privacy.keyring``, the mapper that seals on
the way in in ``application.privacy.sealing_mapper``, the key store in
``application.storage.citizen_keys`` and what storage reads of an envelope without opening it (that
it is one, and its key id) in ``application.storage.envelope_labels``.
"""

from __future__ import annotations

import base64
import secrets
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.privacy.master_key import NONCE_BYTES
from application.storage.envelope_labels import PREFIX, is_sealed

SEALED_FIELDS = ("citizen_ref", "case_ref", "purpose")
"""The personal fields of ``referral.referred``."""
ERASED = "erased"
"""What a personal field reads as once its citizen's key was destroyed."""


class SealedDataError(Exception):
    """An envelope is malformed or does not open with its key (altered bytes)."""


def _field_aad(referral_id: UUID | str, field: str) -> bytes:
    return f"caseledger/field/v1|{referral_id}|{field}".encode()


def seal(dek: bytes, key_id: str, referral_id: UUID | str, field: str, plaintext: str) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(dek).encrypt(nonce, plaintext.encode(), _field_aad(referral_id, field))
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode().rstrip('=')}"


WITHHELD = "withheld"
"""What a personal field of an aggregate that a process keeps in memory holds instead of plaintext."""


def withhold_personal_fields(aggregate: object) -> None:
    """Replace the plaintext personal fields of ``aggregate`` (a referral filed in this process) by
    ``WITHHELD``; envelopes and absent fields stay. For copies kept for commands, which never read
    them."""
    for field in SEALED_FIELDS:
        value = getattr(aggregate, field, None)
        if isinstance(value, str) and not is_sealed(value):
            setattr(aggregate, field, WITHHELD)


def unseal(dek: bytes | None, value: str, referral_id: UUID | str, field: str) -> str:
    """The plaintext of an envelope, or ``ERASED`` when its key is gone (``dek`` None)."""
    if dek is None:
        return ERASED
    try:
        _key_id, text = value[len(PREFIX) :].split(":", 1)
        blob = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return (
            AESGCM(dek)
            .decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _field_aad(referral_id, field))
            .decode()
        )
    except (ValueError, InvalidTag) as error:
        msg = f"the sealed {field} of referral {referral_id} does not open: it was altered or moved"
        raise SealedDataError(msg) from error
