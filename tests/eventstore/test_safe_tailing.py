"""Tailing readers never skip an event, even when appends commit out of position order.

Writers hold their transactions open for random time before and after the insert, so that
positions are taken in one order and committed in another; that is exactly what makes a
plain ``global_position > last`` reader lose events.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict

import asyncpg
import pytest

from eventstore import Position, PostgresEventStore, StoredEvent, StreamVersionConflict
from eventstore.postgres import append_in_transaction
from tests.support import create_database, new_event

WRITERS = 8
APPENDS_PER_WRITER = 40
STREAMS = 12
READERS = 3


async def _writer(
    pool: asyncpg.Pool, rng: random.Random, streams: list[str], written: list[uuid.UUID]
) -> None:
    for _ in range(APPENDS_PER_WRITER):
        stream = rng.choice(streams)
        batch = [new_event(data={"n": rng.random()}) for _ in range(rng.randint(1, 3))]
        before, after = rng.random() * 0.01, rng.random() * 0.01
        while True:
            async with pool.acquire() as connection:
                try:
                    async with connection.transaction():
                        await connection.execute("SELECT pg_sleep($1)", before)
                        version: int = await connection.fetchval(
                            "SELECT coalesce(max(stream_version), 0) FROM eventstore.events "
                            "WHERE stream_id = $1",
                            stream,
                        )
                        await append_in_transaction(connection, stream, version, batch)
                        await connection.execute("SELECT pg_sleep($1)", after)
                except StreamVersionConflict:
                    continue
            written.extend(event.event_id for event in batch)
            break


async def _reader(
    store: PostgresEventStore, stop: asyncio.Event, expected: list[int], seen: list[StoredEvent]
) -> None:
    position = Position.START
    deadline = time.monotonic() + 60
    while True:
        page = await store.read_all(position, limit=50)
        seen.extend(page)
        if page:
            position = page[-1].position
        elif (stop.is_set() and len(seen) >= expected[0]) or time.monotonic() > deadline:
            return
        else:
            await asyncio.sleep(0.002)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_concurrent_tailing_readers_see_every_event_once_in_stream_order(
    postgres_server_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "tailing"), max_size=WRITERS + READERS + 2
    )
    try:
        streams = [f"mentorship-tail-{seed}-{n}" for n in range(STREAMS)]
        written: list[uuid.UUID] = []
        stop = asyncio.Event()
        expected = [0]
        seen_by: list[list[StoredEvent]] = [[] for _ in range(READERS)]
        readers = [asyncio.create_task(_reader(store, stop, expected, seen)) for seen in seen_by]
        await asyncio.gather(
            *(
                _writer(store.pool, random.Random(rng.random()), streams, written)
                for _ in range(WRITERS)
            )
        )
        expected[0] = len(written)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*readers), timeout=90)

        for seen in seen_by:
            ids = [stored.envelope.event_id for stored in seen]
            assert len(ids) == len(set(ids)), "a reader saw an event twice"
            assert set(ids) == set(written), "a reader skipped an event"
            positions = [stored.position for stored in seen]
            assert positions == sorted(positions)
            versions: dict[str, list[int]] = defaultdict(list)
            for stored in seen:
                versions[stored.envelope.stream_id].append(stored.envelope.stream_version)
            for stream_versions in versions.values():
                assert stream_versions == list(range(1, len(stream_versions) + 1))
    finally:
        await store.close()
