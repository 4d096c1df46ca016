"""Blind indexes: keyed digests that find a person by a personal value without storing it.

Sealed values cannot be searched (each is encrypted for its place, under its person's key),
yet a sign-in must find the person whose email is the identity provider's claim. A blind
index stores, next to the sealed value, ``HMAC-SHA256(key, kind NUL normalized value)``:
equal values give equal digests, and without the key a digest reveals nothing a guess could
confirm.

* **Keys.** One index key per master key, derived from it with HKDF-SHA256 under a label of
  its own (so no key serves two purposes). A digest is written with the active master key's
  index key and names its id (``<key id>:<hex>``); a lookup computes the digest under every
  key of the ring, so rows written before a master key rotation keep matching until they are
  written again (and after a key is dropped from the ring, until the index is rebuilt).
* **Normalized.** Values are trimmed and case-folded first (``Ada@Example.com `` finds
  ``ada@example.com``), because identity providers and HR systems disagree on case.
* **Separated.** The kind (``email``, ``user_name``, …) is part of the digest: an email equal
  to someone's user name gives two different digests.

A digest of a personal value is personal data of its person: forgetting deletes them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vault.crypto import KeySource

_LABEL = b"mentorflow blind index v1 hmac-sha256"


def normalized(value: str) -> str:
    """``value`` as the index compares it: trimmed and case-folded."""
    return value.strip().casefold()


def index_key(master: bytes) -> bytes:
    """The blind-index key derived from one master key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(master)


@dataclass(frozen=True)
class BlindIndex:
    """Digests under the index keys of a master key ring."""

    keys: Mapping[str, bytes] = field(repr=False)
    """Index key by master key id."""
    active_id: str

    @classmethod
    def of(cls, master: KeySource) -> BlindIndex:
        """The index keys of every master key in ``master``."""
        keys = {key_id: index_key(master.key(key_id)) for key_id in master.key_ids}
        return cls(MappingProxyType(keys), master.active_id)

    def digest(self, kind: str, value: str) -> str:
        """The digest to store for ``value`` of ``kind`` (under the active key)."""
        return self._digest(self.active_id, kind, value)

    def candidates(self, kind: str, value: str) -> list[str]:
        """Every digest a stored ``value`` of ``kind`` may have (one per key of the ring)."""
        return [self._digest(key_id, kind, value) for key_id in self.keys]

    def _digest(self, key_id: str, kind: str, value: str) -> str:
        message = f"{kind}\x00{normalized(value)}".encode()
        return f"{key_id}:{hmac.new(self.keys[key_id], message, hashlib.sha256).hexdigest()}"
