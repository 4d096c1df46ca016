"""AES-256-GCM for data keys (wrapped by a master key) and for personal values."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.personal import SealedToken, format_token

NONCE_BYTES = 12
DATA_KEY_BYTES = 32


class KeySource(Protocol):
    """Master keys by id and the one that wraps new data keys (`mentorflow.keyring.KeyRing`)."""

    @property
    def active_id(self) -> str: ...

    @property
    def active(self) -> bytes: ...

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


def seal_text(data_key: bytes, person_id: str, text: str, context: str) -> str:
    """A sealed token of ``text`` for ``person_id``.

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
    return format_token(person_id, encoded)


def open_text(data_key: bytes, token: SealedToken) -> str:
    """The text of a sealed token.

    Raises:
        CannotOpen: The token was not sealed with this key (or was tampered with).
    """
    raw = base64.urlsafe_b64decode(token.ciphertext + "=" * (-len(token.ciphertext) % 4))
    try:
        plaintext = AESGCM(data_key).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], token.person_id.encode()
        )
    except InvalidTag:
        raise CannotOpen(f"a value of {token.person_id} does not open") from None
    return plaintext.decode()
