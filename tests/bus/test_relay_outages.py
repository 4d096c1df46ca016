"""NATS away, at start or in the middle: the relay waits, retries, then goes on; no gaps.

These tests run a nats-server of their own, which they kill and restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from bus import RelayStats
from eventstore import PostgresEventStore
from tests.bus.support import (
    NatsProcess,
    isolated_bus_config,
    read_stream,
    relay_running,
    stream_message_count,
)
from tests.support import assert_eventually, new_event, unique_stream


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsProcess]:
    """A nats-server this test may kill (not started yet)."""
    server = NatsProcess(tmp_path / "jetstream")
    try:
        yield server
    finally:
        server.kill()


async def _append(store: PostgresEventStore, stream_id: str, version: int, count: int) -> None:
    await store.append(stream_id, version, [new_event() for _ in range(count)])


@pytest.mark.slow
async def test_the_relay_waits_for_nats_and_catches_up_after_an_outage(
    store: PostgresEventStore, database_url: str, own_nats: NatsProcess
) -> None:
    config = isolated_bus_config(own_nats.url, publish_timeout=0.5)
    stream_id = unique_stream()
    await _append(store, stream_id, 0, 30)
    stats = RelayStats()

    async def retries() -> int:
        return stats.retries

    async with relay_running(database_url, config, stats=stats):
        # NATS is not there yet: the relay waits for it, then publishes the backlog.
        await own_nats.start()
        await assert_eventually(
            lambda: stream_message_count(own_nats.url, config.stream_name),
            lambda count: count == 30,
            timeout=30,
        )

        # NATS goes away mid-run while events keep coming: publishing fails and is retried.
        own_nats.kill()
        await _append(store, stream_id, 30, 70)
        await assert_eventually(retries, lambda count: count >= 2, timeout=30)
        await _append(store, stream_id, 100, 100)

        # Back again (same store): everything arrives, nothing twice, nothing skipped.
        await own_nats.start()
        await assert_eventually(
            lambda: stream_message_count(own_nats.url, config.stream_name),
            lambda count: count >= 200,
            timeout=60,
        )

    client = await _connect(own_nats.url)
    try:
        contents = await read_stream(client, config.stream_name, f"{config.subject_prefix}.>")
        info = await client.jetstream().stream_info(config.stream_name)
    finally:
        await client.close()
    stored = [str(envelope.event_id) for envelope in await store.read_stream(stream_id)]
    # Failures may reorder a retried rest of a page; consumers rely on event ids, not order.
    assert sorted(contents.event_ids) == sorted(stored)
    assert info.state.messages == 200 == info.state.last_seq


async def _connect(url: str) -> Client:
    return await nats.connect(url)


async def test_a_relay_stops_promptly_while_nats_is_away(
    store: PostgresEventStore, database_url: str, own_nats: NatsProcess
) -> None:
    config = isolated_bus_config(own_nats.url, publish_timeout=0.5)
    stream_id = unique_stream()
    await _append(store, stream_id, 0, 5)
    stats = RelayStats()

    # Never reached NATS: waiting to connect.
    async with relay_running(database_url, config, stop_timeout=5):
        pass

    # Lost NATS mid-run: retrying.
    await own_nats.start()
    async with relay_running(database_url, config, stats=stats, stop_timeout=5):
        await assert_eventually(
            lambda: stream_message_count(own_nats.url, config.stream_name),
            lambda count: count == 5,
            timeout=30,
        )
        own_nats.kill()
        await _append(store, stream_id, 5, 5)

        async def retries() -> int:
            return stats.retries

        await assert_eventually(retries, lambda count: count >= 1, timeout=30)
