"""A relay killed at random points during a burst loses nothing and duplicates nothing.

The relay runs as a process of its own and is SIGKILLed (no clean-up of any kind) in each
round while writers append concurrently, a few thousand events in all; a last relay then
catches up. The stream must hold every event exactly once: JetStream's duplicate window
absorbs what was re-published after each kill, the checkpoint guarantees nothing is skipped.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from nats.aio.client import Client

from bus import BusConfig
from eventstore import PostgresEventStore
from tests.bus.support import read_stream, relay_running, stream_message_count
from tests.support import assert_eventually, new_event

ROUNDS = 5
WRITERS = 6
APPENDS_PER_ROUND = 20
EVENTS_PER_APPEND = 5  # 5 rounds x 6 writers x 21 appends x 5 events = 3,150 events
REPOSITORY = Path(__file__).resolve().parents[2]


class Writers:
    """Concurrent appenders on a few streams each, remembering what they wrote."""

    def __init__(self, store: PostgresEventStore, rng: random.Random) -> None:
        self._store = store
        self._rng = rng
        self._versions: dict[str, int] = {}
        self.written: list[uuid.UUID] = []

    async def _write(self, writer: int, appends: int) -> None:
        for _ in range(appends):
            stream = f"mentorship-crash-{writer}-{self._rng.randrange(4)}"
            batch = [new_event("CrashTested") for _ in range(EVENTS_PER_APPEND)]
            version = self._versions.get(stream, 0)
            self._versions[stream] = version + len(batch)
            await self._store.append(stream, version, batch)
            self.written.extend(event.event_id for event in batch)
            await asyncio.sleep(self._rng.random() * 0.01)  # a burst of ~0.1 s

    async def burst(self, appends: int = APPENDS_PER_ROUND) -> None:
        """Every writer appends ``appends`` times, concurrently."""
        await asyncio.gather(*(self._write(writer, appends) for writer in range(WRITERS)))


def _spawn_relay(database_url: str, config: BusConfig) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.bus.relay_process", database_url, config.model_dump_json()],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_a_relay_killed_during_a_burst_leaves_every_event_once_on_the_bus(
    store: PostgresEventStore, database_url: str, bus_config: BusConfig, nats_client: Client
) -> None:
    rng = random.Random(5)
    writers = Writers(store, rng)
    kills_mid_burst = 0

    for _ in range(ROUNDS):
        await writers.burst(appends=1)  # a backlog, so that a relay at work is visible
        published = await stream_message_count(bus_config.nats_url, bus_config.stream_name)
        relay = _spawn_relay(database_url, bus_config)
        try:
            await assert_eventually(
                lambda: stream_message_count(bus_config.nats_url, bus_config.stream_name),
                lambda count: count > published,  # noqa: B023 - used within the iteration
                timeout=60,
                message="the relay published nothing",
            )
            burst = asyncio.create_task(writers.burst())
            await asyncio.wait({burst}, timeout=rng.random() * 0.05)
            kills_mid_burst += not burst.done()
            relay.kill()
            relay.wait()
            await burst
        finally:
            relay.kill()
            relay.wait()

    total = len(writers.written)
    assert total == ROUNDS * (1 + APPENDS_PER_ROUND) * WRITERS * EVENTS_PER_APPEND
    assert kills_mid_burst >= ROUNDS - 1, "the kills should land while events are coming in"

    async with relay_running(database_url, bus_config):
        await assert_eventually(
            lambda: stream_message_count(bus_config.nats_url, bus_config.stream_name),
            lambda count: count >= total,
            timeout=60,
        )

    subjects = f"{bus_config.subject_prefix}.>"
    contents = await read_stream(nats_client, bus_config.stream_name, subjects)
    assert sorted(contents.event_ids) == sorted(str(event_id) for event_id in writers.written)
    info = await nats_client.jetstream().stream_info(bus_config.stream_name)
    assert info.state.messages == total == info.state.last_seq
