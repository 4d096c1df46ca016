"""The Temporal data converter every mentorflow client, worker and replayer uses.

pydantic models as JSON, and a payload codec that compresses large payloads with zlib. A
cohort's spec is the cohort workflow's input and a cohort of 10,000 mentees with 4,000
mentors is about 7 MB of JSON, far above Temporal's 2 MiB payload limit; compressed it is
about 0.65 MB. Payloads under `COMPRESS_ABOVE` bytes stay as they are (readable in the UI),
and payloads without the codec's encoding pass through decoding untouched, so histories
recorded before the codec existed still replay.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

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


DATA_CONVERTER: DataConverter = dataclasses.replace(
    pydantic_data_converter, payload_codec=CompressionCodec()
)
