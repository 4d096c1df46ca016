"""The payload codec on its own: encryption, key rotation, failures, old histories."""

from __future__ import annotations

import json
import zlib

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from mentorflow.converter import (
    COMPRESS_ABOVE,
    ENCODING,
    MAX_DECOMPRESSED_BYTES,
    CompressionCodec,
    MentorflowPayloadCodec,
    data_converter,
)
from mentorflow.keyring import KeyRing
from mentorflow.payload_codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    EncryptionCodec,
    PayloadCodecError,
    PayloadDecompressionFailed,
    PayloadDecryptionFailed,
    PayloadKeyUnknown,
    PayloadNotEncrypted,
    PayloadTooLarge,
)

SENTINEL = "sentinel-7f3a: I am struggling with my manager"


def json_payload(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


def rotated(old: KeyRing, new_id: str) -> KeyRing:
    """``old`` plus a fresh key that becomes the active one."""
    fresh = KeyRing.generate(new_id)
    return KeyRing({**old.keys, **fresh.keys}, new_id)


async def test_payloads_are_encrypted_under_the_active_key_and_decrypt_back() -> None:
    ring = KeyRing.generate("p1")
    converter = data_converter(ring)

    (encoded,) = await converter.encode([{"notes": SENTINEL}])

    assert encoded.metadata["encoding"] == ENCRYPTED_ENCODING
    assert encoded.metadata[KEY_ID_METADATA] == b"p1"
    assert SENTINEL.encode() not in encoded.SerializeToString()
    assert b"json/plain" not in encoded.SerializeToString()  # the type is hidden too
    assert await converter.decode([encoded]) == [{"notes": SENTINEL}]


async def test_the_same_value_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec(KeyRing.generate("p1"))

    first, second = await codec.encode([json_payload(SENTINEL), json_payload(SENTINEL)])

    assert first.data != second.data


async def test_after_rotation_old_payloads_decrypt_and_new_ones_use_the_new_key() -> None:
    p1 = KeyRing.generate("p1")
    (written_under_p1,) = await EncryptionCodec(p1).encode([json_payload(SENTINEL)])
    ring = rotated(p1, "p2")
    codec = EncryptionCodec(ring)

    (decoded,) = await codec.decode([written_under_p1])
    (written_now,) = await codec.encode([json_payload(SENTINEL)])

    assert ring.active_id == "p2"
    assert json.loads(decoded.data) == SENTINEL
    assert written_now.metadata[KEY_ID_METADATA] == b"p2"
    assert json.loads((await codec.decode([written_now]))[0].data) == SENTINEL


async def test_a_payload_under_a_key_not_in_the_ring_fails_naming_the_key() -> None:
    (payload,) = await EncryptionCodec(KeyRing.generate("p9")).encode([json_payload(SENTINEL)])
    codec = EncryptionCodec(rotated(KeyRing.generate("p1"), "p2"))

    with pytest.raises(PayloadKeyUnknown) as raised:
        await codec.decode([payload])

    assert raised.value.key_id == "p9"
    message = str(raised.value)
    assert "'p9'" in message
    assert "p1, p2" in message
    assert "MENTORFLOW_PAYLOAD_KEYS" in message
    assert SENTINEL not in message


async def test_an_altered_payload_does_not_authenticate() -> None:
    codec = EncryptionCodec(KeyRing.generate("p1"))
    (payload,) = await codec.encode([json_payload(SENTINEL)])
    altered = bytearray(payload.data)
    altered[-1] ^= 1
    payload.data = bytes(altered)

    with pytest.raises(PayloadDecryptionFailed, match="authentication failed"):
        await codec.decode([payload])


async def test_a_payload_relabelled_with_another_key_id_does_not_authenticate() -> None:
    # The same key under two ids: only the associated data (the key id) tells them apart.
    key = KeyRing.generate("p1").keys["p1"]
    codec = EncryptionCodec(KeyRing({"p1": key, "p2": key}, "p2"))
    (payload,) = await codec.encode([json_payload(SENTINEL)])
    payload.metadata[KEY_ID_METADATA] = b"p1"

    with pytest.raises(PayloadDecryptionFailed):
        await codec.decode([payload])


async def test_a_payload_without_a_key_id_fails_clearly() -> None:
    codec = EncryptionCodec(KeyRing.generate("p1"))
    payload = Payload(metadata={"encoding": ENCRYPTED_ENCODING}, data=b"\0" * 40)

    with pytest.raises(PayloadDecryptionFailed, match=KEY_ID_METADATA):
        await codec.decode([payload])


async def test_payloads_recorded_before_encryption_pass_through_when_not_required() -> None:
    converter = data_converter(KeyRing.generate("p1"), require_encryption=False)
    plain = json_payload({"notes": "recorded before the codec"})

    assert await converter.decode([plain]) == [{"notes": "recorded before the codec"}]


async def test_large_payloads_are_compressed_before_they_are_encrypted() -> None:
    converter = data_converter(KeyRing.generate("p1"))
    value = {"participants": [{"id": f"p-{i:05d}", "skills": ["python"]} for i in range(2_000)]}
    raw_size = len(json.dumps(value))

    (encoded,) = await converter.encode([value])

    assert raw_size > COMPRESS_ABOVE
    assert encoded.metadata["encoding"] == ENCRYPTED_ENCODING
    assert len(encoded.data) < raw_size / 5
    assert await converter.decode([encoded]) == [value]


async def test_failure_messages_and_stack_traces_are_encrypted() -> None:
    converter = data_converter(KeyRing.generate("p1"))
    failure = Failure()
    try:
        raise ApplicationError(f"rejected: {SENTINEL}", type="CommandRejected")
    except ApplicationError as error:
        await converter.encode_failure(error, failure)

    assert SENTINEL.encode() not in failure.SerializeToString()
    assert failure.message == "Encoded failure"
    assert failure.stack_trace == ""
    assert failure.encoded_attributes.metadata["encoding"] == ENCRYPTED_ENCODING
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == f"rejected: {SENTINEL}"
    assert decoded.type == "CommandRejected"


async def test_an_unencrypted_payload_is_refused_by_default() -> None:
    converter = data_converter(KeyRing.generate("p1"))

    with pytest.raises(PayloadNotEncrypted) as raised:
        await converter.decode([json_payload({"notes": SENTINEL})])

    assert raised.value.encoding == "json/plain"
    assert "MENTORFLOW_REQUIRE_ENCRYPTED_PAYLOADS" in str(raised.value)
    assert SENTINEL not in str(raised.value)


async def test_a_compressed_but_unencrypted_payload_is_refused_too() -> None:
    compressed = Payload(
        metadata={"encoding": ENCODING},
        data=zlib.compress(json_payload(SENTINEL).SerializeToString()),
    )

    with pytest.raises(PayloadNotEncrypted):
        await data_converter(KeyRing.generate("p1")).decode([compressed])


def _zlib_bomb(size: int) -> bytes:
    """zlib data expanding to ``size`` zero bytes, built without holding them in memory."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


async def test_a_zlib_bomb_is_refused_without_being_expanded() -> None:
    ring = KeyRing.generate("p1")
    bomb = _zlib_bomb(1024 * 1024 * 1024)  # 1 GiB of zeros in about 1 MiB
    (payload,) = await EncryptionCodec(ring).encode(
        [Payload(metadata={"encoding": ENCODING}, data=bomb)]
    )

    with pytest.raises(PayloadTooLarge) as raised:
        await MentorflowPayloadCodec(ring).decode([payload])

    assert isinstance(raised.value, PayloadCodecError)
    assert raised.value.limit == MAX_DECOMPRESSED_BYTES
    assert len(bomb) < 2 * 1024 * 1024  # fits Temporal's payload limit


async def test_a_payload_of_exactly_the_limit_still_decompresses() -> None:
    original = Payload(metadata={"encoding": b"binary/plain"}, data=bytes(1000))
    limit = len(original.SerializeToString())
    compressed = Payload(
        metadata={"encoding": ENCODING}, data=zlib.compress(original.SerializeToString())
    )

    assert await CompressionCodec(max_decompressed=limit).decode([compressed]) == [original]
    with pytest.raises(PayloadTooLarge):
        await CompressionCodec(max_decompressed=limit - 1).decode([compressed])


@pytest.mark.parametrize(
    "data",
    [b"not zlib at all", zlib.compress(b"x" * 5000)[:20], zlib.compress(b"\xff\xff\xff")],
    ids=["garbage", "truncated", "not-a-payload"],
)
async def test_corrupt_compressed_data_raises_a_codec_error(data: bytes) -> None:
    compressed = Payload(metadata={"encoding": ENCODING}, data=data)

    with pytest.raises(PayloadDecompressionFailed):
        await CompressionCodec().decode([compressed])
