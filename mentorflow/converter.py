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

Decompression is capped at `MAX_DECOMPRESSED_BYTES`: a payload is at most 2 MiB on the wire
(Temporal's limit) but zlib expands up to about 1000:1, so a crafted payload could otherwise
make the worker or the codec endpoint allocate gigabytes.

Payloads without the codecs' encodings are refused when encryption is required (every
process outside tests and replay, `data_converter`'s default); replay and tests pass
``require_encryption=False`` so histories recorded before the codec existed still replay.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter, pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    EncodingPayloadConverter,
    PayloadCodec,
)

from mentorflow.keyring import KeyRing
from mentorflow.payload_codec import (
    REFUSED_ENCODING,
    REFUSED_FROM_METADATA,
    EncryptionCodec,
    PayloadDecompressionFailed,
    PayloadNotEncrypted,
    PayloadTooLarge,
)

ENCODING = b"binary/zlib"
COMPRESS_ABOVE = 16 * 1024
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
"""The most a compressed payload may expand to: twice the largest legitimate payload, a
cohort spec at the API's 16 MiB launch limit (20,000 participants are about 10 MB)."""


class CompressionCodec(PayloadCodec):
    """zlib for payloads above a size; everything else passes through.

    Args:
        max_decompressed: The most bytes one payload may decompress to.
    """

    def __init__(self, max_decompressed: int = MAX_DECOMPRESSED_BYTES) -> None:
        self.max_decompressed = max_decompressed

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
        """Restore compressed payloads; pass the others through.

        Raises:
            PayloadTooLarge: A payload expands beyond ``max_decompressed`` bytes.
            PayloadDecompressionFailed: A payload is not valid zlib data of a payload.
        """
        decoded: list[Payload] = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            original = Payload()
            try:
                original.ParseFromString(self._decompress(payload.data))
            except DecodeError:
                raise PayloadDecompressionFailed("not a serialized payload") from None
            decoded.append(original)
        return decoded

    def _decompress(self, data: bytes) -> bytes:
        # One byte over the limit tells "exactly at the limit" from "beyond it" without ever
        # holding more than the limit in memory.
        decompressor = zlib.decompressobj()
        try:
            output = decompressor.decompress(data, self.max_decompressed + 1)
        except zlib.error as error:
            raise PayloadDecompressionFailed(str(error)) from None
        if len(output) > self.max_decompressed:
            raise PayloadTooLarge(self.max_decompressed)
        if not decompressor.eof:
            raise PayloadDecompressionFailed("the data is truncated")
        return output


class MentorflowPayloadCodec(PayloadCodec):
    """Compress (when large), then encrypt; decode in the reverse order.

    Args:
        keyring: The payload keys.
        require_encryption: Replace payloads that are not encrypted by refusals (see
            `data_converter`); off by default for the codec endpoint, which decodes whatever
            a history shows.
    """

    def __init__(self, keyring: KeyRing, *, require_encryption: bool = False) -> None:
        self.compression = CompressionCodec()
        self.encryption = EncryptionCodec(keyring, require_encryption=require_encryption)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Compress the large payloads, then encrypt every payload with the active key."""
        return await self.encryption.encode(await self.compression.encode(payloads))

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt, then decompress; plain payloads pass, or become refusals when required.

        Raises:
            mentorflow.payload_codec.PayloadCodecError: A payload names a key the ring does
                not hold, does not authenticate, or does not decompress within the limit.
        """
        return await self.compression.decode(await self.encryption.decode(payloads))


class RefusedPayloadConverter(EncodingPayloadConverter):
    """Turns a refused plain payload (`mentorflow.payload_codec.refused_payload`) into an error.

    Raising here rather than in the codec rejects only the update (or signal, or query) that
    carried the payload; the workflow task completes and the workflow carries on.
    """

    @property
    def encoding(self) -> str:
        """The refusal's encoding."""
        return REFUSED_ENCODING.decode()

    def to_payload(self, value: Any) -> Payload | None:
        """Never used to encode."""
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        """Raise `PayloadNotEncrypted`, naming the refused payload's encoding."""
        raise PayloadNotEncrypted(
            payload.metadata.get(REFUSED_FROM_METADATA, b"").decode(errors="replace")
        )


class MentorflowPayloadConverter(PydanticPayloadConverter):
    """pydantic's payload converter, plus `RefusedPayloadConverter` (tried last)."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), RefusedPayloadConverter())


def data_converter(keyring: KeyRing, *, require_encryption: bool = True) -> DataConverter:
    """The data converter of every client, worker and replayer, encrypting with ``keyring``.

    Build it from ``load_settings().payload_keyring()``; every process that reads a history
    needs every key that wrote one of its payloads.

    Args:
        keyring: The payload keys.
        require_encryption: Refuse payloads that arrive unencrypted, so that whoever lacks
            the payload key cannot make a worker act (a raw ``temporal workflow update`` is
            rejected with `PayloadNotEncrypted`). Processes pass
            ``settings.require_encrypted_payloads``; replaying histories recorded before
            encryption needs False.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=MentorflowPayloadConverter,
        payload_codec=MentorflowPayloadCodec(keyring, require_encryption=require_encryption),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
