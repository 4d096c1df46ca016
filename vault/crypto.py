"""Data keys wrapped by a master key (AES-256-GCM), and personal values sealed with them.

Personal values are sealed with AES-256-SIV (RFC 5297, from ``cryptography``): a deterministic,
misuse-resistant AEAD. Sealing the same text at the same place twice gives the same bytes, so
a retried append stays an idempotent no-op, and nothing depends on a nonce being unique. The
SIV key is derived from the person's data key with HKDF-SHA256 under its own label, so no key
serves two algorithms. The associated data is the value's *place*: person, stream id, event
id and field path, as separate SIV components (no concatenation ambiguity). A token copied to
another person, stream, event or field therefore fails to open.

Version 1 tokens (AES-256-GCM with an HMAC-derived nonce under the data key itself, bound to
the person only) are still opened, never written.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from events.personal import SealedToken, format_token

NONCE_BYTES = 12
DATA_KEY_BYTES = 32


class KeySource(Protocol):
    """Master keys by id and the one that wraps new data keys (`mentorflow.keyring.KeyRing`)."""

    @property
    def active_id(self) -> str: ...

    @property
    def active(self) -> bytes: ...

    @property
    def key_ids(self) -> tuple[str, ...]: ...

    def key(self, key_id: str) -> bytes: ...


class CannotOpen(ValueError):
    """A sealed value or wrapped key does not decrypt with the key given."""


def new_data_key() -> bytes:
    """A fresh random data key."""
    return secrets.token_bytes(DATA_KEY_BYTES)


def wrap_key(master: bytes, master_id: str, person_id: str, data_key: bytes) -> bytes:
    """``data_key`` encrypted with ``master``, bound to the person and the master key id."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _wrap_context(master_id, person_id))


def unwrap_key(master: bytes, master_id: str, person_id: str, wrapped: bytes) -> bytes:
    """The data key of a wrapped one.

    Raises:
        CannotOpen: Wrong master key, or the row was moved to another person.
    """
    try:
        return AESGCM(master).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_context(master_id, person_id)
        )
    except InvalidTag:
        raise CannotOpen(f"the data key of {person_id} does not unwrap") from None


def _wrap_context(master_id: str, person_id: str) -> bytes:
    return f"mentorflow-data-key:{master_id}:{person_id}".encode()


_SIV_LABEL = b"mentorflow personal value v2 aes-256-siv"
_EVENT_ID_BYTES = 16


@dataclass(frozen=True, slots=True)
class Place:
    """Where a sealed value belongs: its person, stream, event and field path."""

    person_id: str
    stream_id: str
    event_id: UUID
    field_path: str

    def associated_data(self) -> list[bytes]:
        """The SIV associated-data components."""
        return [
            b"mentorflow-sealed-v2",
            self.person_id.encode(),
            self.stream_id.encode(),
            self.event_id.bytes,
            self.field_path.encode(),
        ]


@lru_cache(maxsize=4096)
def _siv(data_key: bytes) -> AESSIV:
    # Cached by data key: HKDF per value cost more than the cipher. Only a key the vault
    # handed out reaches here (a forgotten person's is never read again), so the cache
    # cannot open anything the vault would not.
    derived = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_SIV_LABEL).derive(
        data_key
    )
    return AESSIV(derived)


def seal_value(data_key: bytes, text: str, place: Place) -> str:
    """A ``sealed:v2`` token of ``text`` at ``place`` (deterministic)."""
    ciphertext = _siv(data_key).encrypt(text.encode(), place.associated_data())
    encoded = base64.urlsafe_b64encode(place.event_id.bytes + ciphertext).rstrip(b"=").decode()
    return format_token(place.person_id, encoded, 2)


def token_event_id(token: SealedToken) -> UUID | None:
    """The event id a v2 token says it was sealed for (authenticated only by opening it)."""
    if token.version != 2:
        return None
    raw = _decode(token.ciphertext)
    return UUID(bytes=raw[:_EVENT_ID_BYTES]) if len(raw) > _EVENT_ID_BYTES else None


def open_value(data_key: bytes, token: SealedToken, stream_id: str, field_path: str) -> str:
    """The text of a v2 token, when it was sealed for its person at this stream and field.

    Raises:
        CannotOpen: Another key, stream, event or field, or tampered with.
    """
    raw = _decode(token.ciphertext)
    if token.version != 2 or len(raw) <= _EVENT_ID_BYTES:
        raise CannotOpen(f"a value of {token.person_id} is not a v2 token")
    place = Place(token.person_id, stream_id, UUID(bytes=raw[:_EVENT_ID_BYTES]), field_path)
    try:
        return _siv(data_key).decrypt(raw[_EVENT_ID_BYTES:], place.associated_data()).decode()
    except InvalidTag:
        raise CannotOpen(f"a value of {token.person_id} does not open here") from None


def _decode(ciphertext: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(ciphertext + "=" * (-len(ciphertext) % 4))
    except ValueError:
        return b""


def seal_text(data_key: bytes, person_id: str, text: str, context: str) -> str:
    """A ``sealed:v1`` token of ``text`` for ``person_id`` (kept to test reading old events).

    The nonce is derived from the key, ``context`` (the event id) and the text (a synthetic
    IV): sealing the same event again gives the same bytes, so a retried append stays an
    idempotent no-op, and two different texts never share a nonce.
    """
    plaintext = text.encode()
    nonce = hmac.new(data_key, context.encode() + b"\x00" + plaintext, hashlib.sha256).digest()[
        :NONCE_BYTES
    ]
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, person_id.encode())
    encoded = base64.urlsafe_b64encode(nonce + ciphertext).rstrip(b"=").decode()
    return format_token(person_id, encoded, 1)


def open_text(data_key: bytes, token: SealedToken) -> str:
    """The text of a ``sealed:v1`` token.

    Raises:
        CannotOpen: The token was not sealed with this key (or was tampered with).
    """
    raw = _decode(token.ciphertext)
    if token.version != 1 or len(raw) <= NONCE_BYTES:
        raise CannotOpen(f"a value of {token.person_id} is not a v1 token")
    try:
        plaintext = AESGCM(data_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], token.person_id.encode()
        )
    except InvalidTag:
        raise CannotOpen(f"a value of {token.person_id} does not open") from None
    return plaintext.decode()
