"""AES-256-GCM encryption of Temporal payloads, with the key id in each payload's metadata.

Every payload a mentorflow client or worker sends to Temporal (workflow inputs and results,
update arguments with conversation notes, query answers, encoded failures) is replaced by

    metadata: {"encoding": "binary/encrypted", "encryption-key-id": "<key id>"}
    data:     12-byte random nonce || AES-GCM ciphertext of the serialized payload, with tag

so the Temporal server stores and shows ciphertext only. The whole original payload is
encrypted, metadata included: the server does not even learn which type a value had. The key
id is authenticated as associated data, so a payload cannot be relabelled to be decrypted
under another key.

Keys rotate through the `KeyRing`: new payloads use the ring's active key, and any key still
in the ring decrypts the payloads written with it. A payload whose key left the ring fails
with `PayloadKeyUnknown`, naming the key id.

Payloads without this codec's encoding are refused when the codec requires encryption (the
workers, the API and the CLI, unless ``MENTORFLOW_REQUIRE_ENCRYPTED_PAYLOADS=false``): a client
without the payload key, such as a raw ``temporal workflow update``, then cannot make a worker
act. Decoding replaces such a payload by a *refusal* (`refused_payload`, its content dropped)
that raises `PayloadNotEncrypted` when it is converted to a value
(`mentorflow.converter.RefusedPayloadConverter`). Raising in the codec would fail the whole
workflow task, again on every retry, and so wedge the workflow; converted, the refusal
rejects just the update whose argument it is (the SDK rejects an update whose arguments do
not convert), drops a signal, fails a query. Without the requirement (replay of histories
recorded before encryption, the codec endpoint showing whatever a history holds) plain
payloads pass through decoding untouched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from mentorflow.keyring import KeyRing, UnknownKey

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16
REFUSED_ENCODING = b"binary/refused-unencrypted"
REFUSED_FROM_METADATA = "refused-encoding"


class PayloadCodecError(ValueError):
    """A payload cannot be decoded; the message says which key and why (never its content)."""


class PayloadKeyUnknown(PayloadCodecError):
    """The payload was encrypted with a key the ring does not hold.

    Attributes:
        key_id: The id in the payload's metadata.
        known_ids: The ids the ring holds.
    """

    def __init__(self, key_id: str, known_ids: Sequence[str]) -> None:
        self.key_id = key_id
        self.known_ids = list(known_ids)
        super().__init__(
            f"payload encrypted with key {key_id!r}, which the payload key ring "
            f"({', '.join(self.known_ids)}) does not hold: keep retired keys in "
            "MENTORFLOW_PAYLOAD_KEYS while histories written with them are still read"
        )


class PayloadNotEncrypted(PayloadCodecError):
    """A payload arrived in the clear where only encrypted payloads are accepted.

    Attributes:
        encoding: The payload's ``encoding`` metadata ('' when it has none).
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        super().__init__(
            f"refused a payload that is not encrypted (encoding {encoding!r}): only clients "
            "holding the payload key may send payloads to mentorflow "
            "(MENTORFLOW_REQUIRE_ENCRYPTED_PAYLOADS)"
        )


def refused_payload(encoding: bytes) -> Payload:
    """The stand-in for a plain payload that was refused: its encoding, never its data."""
    return Payload(metadata={"encoding": REFUSED_ENCODING, REFUSED_FROM_METADATA: encoding})


class PayloadTooLarge(PayloadCodecError):
    """A compressed payload expands beyond the decompression limit (a zlib bomb, say).

    Attributes:
        limit: The most bytes a payload may decompress to.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"compressed payload expands beyond the limit of {limit} bytes")


class PayloadDecompressionFailed(PayloadCodecError):
    """A compressed payload is corrupt, truncated, or not a serialized payload."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"compressed payload cannot be decompressed: {reason}")


class PayloadDecryptionFailed(PayloadCodecError):
    """The payload is malformed, or its ciphertext does not authenticate under its key.

    Attributes:
        key_id: The id in the payload's metadata ('' when it has none).
    """

    def __init__(self, key_id: str, reason: str) -> None:
        self.key_id = key_id
        super().__init__(f"payload under key {key_id!r} cannot be decrypted: {reason}")


class EncryptionCodec(PayloadCodec):
    """Encrypt every payload with the ring's active key; decrypt with the key it names.

    Args:
        keyring: The payload keys.
        require_encryption: Replace payloads that are not encrypted by refusals.
    """

    def __init__(self, keyring: KeyRing, *, require_encryption: bool = False) -> None:
        self._keyring = keyring
        self.require_encryption = require_encryption
        self._ciphers: dict[str, AESGCM] = {}

    @property
    def active_key_id(self) -> str:
        """The id of the key new payloads are encrypted with."""
        return self._keyring.active_id

    def _cipher(self, key_id: str) -> AESGCM:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            try:
                key = self._keyring.key(key_id)
            except UnknownKey:
                raise PayloadKeyUnknown(key_id, list(self._keyring.keys)) from None
            cipher = self._ciphers[key_id] = AESGCM(key)
        return cipher

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload (the whole serialized payload) with the active key."""
        key_id = self._keyring.active_id
        cipher = self._cipher(key_id)
        associated = key_id.encode()
        encoded: list[Payload] = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = cipher.encrypt(nonce, payload.SerializeToString(), associated)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: associated},
                    data=nonce + ciphertext,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt the payloads this codec encrypted; the others pass, or become refusals.

        Raises:
            PayloadKeyUnknown: A payload names a key the ring does not hold.
            PayloadDecryptionFailed: A payload is malformed or does not authenticate.
        """
        decoded: list[Payload] = []
        for payload in payloads:
            encoding = payload.metadata.get("encoding", b"")
            if encoding != ENCRYPTED_ENCODING:
                decoded.append(refused_payload(encoding) if self.require_encryption else payload)
                continue
            decoded.append(self._decrypt(payload))
        return decoded

    def _decrypt(self, payload: Payload) -> Payload:
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_key_id:
            raise PayloadDecryptionFailed("", f"no {KEY_ID_METADATA} in its metadata")
        key_id = raw_key_id.decode(errors="replace")
        if len(payload.data) < NONCE_BYTES + TAG_BYTES:
            raise PayloadDecryptionFailed(key_id, "the data is too short to hold nonce and tag")
        cipher = self._cipher(key_id)
        nonce, ciphertext = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, ciphertext, raw_key_id)
        except InvalidTag:
            raise PayloadDecryptionFailed(
                key_id, "authentication failed (altered data, or another key under this id)"
            ) from None
        original = Payload()
        original.ParseFromString(plaintext)
        return original
