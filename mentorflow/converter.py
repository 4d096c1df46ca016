"""The Temporal data converter every mentorflow client, worker and replayer uses.

pydantic models as JSON, failures with their messages and stack traces moved into encoded
attributes, and one payload codec that first compresses large payloads with zlib and then
encrypts every payload with AES-256-GCM (`mentorflow.payload_codec`). The Temporal server, its
UI and anyone reading its database see ciphertext only; the codec endpoint of the API
(`mentorflow.api.codec`) decodes for authorised operators.

Compression: a cohort's spec is the cohort workflow's input and a cohort of 10,000 mentees with
4,000 mentors is about 7 MB of JSON, far above Temporal's 2 MiB payload limit; compressed it is
about 0.65 MB. It happens before encryption because ciphertext does not compress. Payloads
under `COMPRESS_ABOVE` bytes are only encrypted.

Decoding passes through payloads without the codecs' encodings, so histories recorded before
the codec existed (the replay tests' histories among them) still replay.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from mentorflow.keyring import KeyRing
from mentorflow.payload_codec import EncryptionCodec

ENCODING = b"binary/zlib"
COMPRESS_ABOVE = 16 * 1024


class CompressionCodec(PayloadCodec):
    """zlib for payloads above a size; everything else passes through."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Compress each large payload (the whole serialized payload, metadata included)."""
        encoded: list[Payload] = []
        for payload in payloads:
            serialized = payload.SerializeToString()
            if len(serialized) <= COMPRESS_ABOVE:
                encoded.append(payload)
                continue
            encoded.append(
                Payload(metadata={"encoding": ENCODING}, data=zlib.compress(serialized, 6))
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Restore compressed payloads; pass the others through."""
        decoded: list[Payload] = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            original = Payload()
            original.ParseFromString(zlib.decompress(payload.data))
            decoded.append(original)
        return decoded


class MentorflowPayloadCodec(PayloadCodec):
    """Compress (when large), then encrypt; decode in the reverse order."""

    def __init__(self, keyring: KeyRing) -> None:
        self.compression = CompressionCodec()
        self.encryption = EncryptionCodec(keyring)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Compress the large payloads, then encrypt every payload with the active key."""
        return await self.encryption.encode(await self.compression.encode(payloads))

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt, then decompress; payloads in neither encoding pass through.

        Raises:
            mentorflow.payload_codec.PayloadCodecError: A payload names a key the ring does
                not hold, or does not authenticate.
        """
        return await self.compression.decode(await self.encryption.decode(payloads))


def data_converter(keyring: KeyRing) -> DataConverter:
    """The data converter of every client, worker and replayer, encrypting with ``keyring``.

    Build it from ``load_settings().payload_keyring()``; every process that reads a history
    needs every key that wrote one of its payloads.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=MentorflowPayloadCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
