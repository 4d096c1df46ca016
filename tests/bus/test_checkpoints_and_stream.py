"""The relay's checkpoint table and the JetStream stream's set-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nats.aio.client import Client
from nats.js.api import StorageType, StreamConfig

from bus import (
    BusConfig,
    RelayCheckpoints,
    StreamConfigConflict,
    create_broker,
    ensure_stream,
    migrate_bus_schema,
)
from eventstore import Position, PostgresEventStore
from tests.bus.support import isolated_bus_config


async def test_the_checkpoint_starts_at_the_beginning_and_keeps_what_was_saved(
    store: PostgresEventStore,
) -> None:
    assert await migrate_bus_schema(store.pool) == 1
    assert await migrate_bus_schema(store.pool) == 0
    relay, other = RelayCheckpoints(store.pool), RelayCheckpoints(store.pool, "to-archive")

    assert await relay.load() == Position.START
    await relay.save(Position(1234, 56))
    await relay.save(Position(1240, 60))

    assert await relay.load() == Position(1240, 60)
    assert await other.load() == Position.START


async def test_the_stream_is_created_on_file_storage_with_its_limits(
    bus_config: BusConfig, nats_client: Client
) -> None:
    broker = create_broker(bus_config)
    await broker.connect()
    try:
        await ensure_stream(broker, bus_config)
        await ensure_stream(broker, bus_config)  # a second start changes nothing
    finally:
        await broker.stop()

    info = await nats_client.jetstream().stream_info(bus_config.stream_name)
    assert info.config.storage == StorageType.FILE
    assert info.config.subjects == [f"{bus_config.subject_prefix}.>"]
    assert info.config.duplicate_window == pytest.approx(600)
    assert info.config.max_age == pytest.approx(3600)


async def test_changed_limits_are_applied_to_the_existing_stream(
    bus_config: BusConfig, nats_client: Client
) -> None:
    changed = bus_config.model_copy(
        update={"duplicate_window": timedelta(minutes=2), "max_age": timedelta(days=2)}
    )
    broker = create_broker(bus_config)
    await broker.connect()
    try:
        await ensure_stream(broker, bus_config)
        await ensure_stream(broker, changed)
    finally:
        await broker.stop()

    info = await nats_client.jetstream().stream_info(bus_config.stream_name)
    assert info.config.duplicate_window == pytest.approx(120)
    assert info.config.max_age == pytest.approx(2 * 86400)


async def test_a_stream_on_memory_storage_is_refused_not_used(
    bus_config: BusConfig, nats_client: Client
) -> None:
    await nats_client.jetstream().add_stream(
        StreamConfig(
            name=bus_config.stream_name,
            subjects=bus_config.subjects,
            storage=StorageType.MEMORY,
        )
    )
    broker = create_broker(bus_config)
    await broker.connect()
    try:
        with pytest.raises(StreamConfigConflict) as raised:
            await ensure_stream(broker, bus_config)
    finally:
        await broker.stop()
    assert raised.value.setting == "storage"


def test_configuration_rejects_names_nats_would_not_take() -> None:
    with pytest.raises(ValueError, match="stream name"):
        isolated_bus_config("nats://localhost:4222", stream_name="MENTORFLOW.EVENTS")
    with pytest.raises(ValueError, match="subject prefix"):
        isolated_bus_config("nats://localhost:4222", subject_prefix="mentorflow.*")
    with pytest.raises(ValueError, match="duplicate_window"):
        isolated_bus_config("nats://localhost:4222", max_age=timedelta(minutes=1))
