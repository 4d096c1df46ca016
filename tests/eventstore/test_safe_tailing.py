"""Tailing readers never skip an event, even when appends commit out of position order.

Writers hold their transactions open for random time before and after the insert, so that
positions are taken in one order and committed in another; that is exactly what makes a
plain ``global_position > last`` reader lose events (the control below shows it does).
Only event-writing transactions hold readers back: a long-open transaction that writes
anything else delays nobody.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from eventstore import Position, PostgresEventStore, StoredEvent, StreamVersionConflict
from eventstore import postgres as store_module
from eventstore.postgres import append_in_transaction
from tests.support import new_event, unique_stream

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


_NAIVE_PAGE = """
SELECT global_position, event_id FROM eventstore.events
WHERE global_position > $1 ORDER BY global_position LIMIT 50
"""


async def _naive_reader(pool: asyncpg.Pool, stop: asyncio.Event, seen: list[uuid.UUID]) -> None:
    """The control: ``global_position > last``, what the store's ordering exists to avoid."""
    last = 0
    deadline = time.monotonic() + 60
    while True:
        page = await pool.fetch(_NAIVE_PAGE, last)
        seen.extend(row["event_id"] for row in page)
        if page:
            last = page[-1]["global_position"]
        elif stop.is_set() or time.monotonic() > deadline:
            return  # every writer has committed: it read all it ever will
        else:
            await asyncio.sleep(0.002)


Reader = Callable[[asyncio.Event, list[int]], Coroutine[Any, Any, None]]


async def _write_while_reading(
    store: PostgresEventStore, seed: int, readers: list[Reader]
) -> list[uuid.UUID]:
    """Run the writers with ``readers`` tailing; return what was written once all are done."""
    rng = random.Random(seed)
    streams = [f"mentorship-tail-{seed}-{n}-{uuid.uuid4().hex[:6]}" for n in range(STREAMS)]
    written: list[uuid.UUID] = []
    stop = asyncio.Event()
    expected = [0]
    tasks = [asyncio.create_task(reader(stop, expected)) for reader in readers]
    await asyncio.gather(
        *(
            _writer(store.pool, random.Random(rng.random()), streams, written)
            for _ in range(WRITERS)
        )
    )
    expected[0] = len(written)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=90)
    return written


def _assert_every_event_once_in_order(seen: list[StoredEvent], written: list[uuid.UUID]) -> None:
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


@pytest.fixture
async def database_url(clean_database: str) -> str:
    return clean_database


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresEventStore]:
    event_store = await PostgresEventStore.connect(database_url, max_size=WRITERS + READERS + 4)
    try:
        yield event_store
    finally:
        await event_store.close()


def _tailing_readers(store: PostgresEventStore, seen_by: list[list[StoredEvent]]) -> list[Reader]:
    def reader(seen: list[StoredEvent]) -> Reader:
        return lambda stop, expected: _reader(store, stop, expected, seen)

    return [reader(seen) for seen in seen_by]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_concurrent_tailing_readers_see_every_event_once_in_stream_order(
    store: PostgresEventStore, seed: int
) -> None:
    seen_by: list[list[StoredEvent]] = [[] for _ in range(READERS)]

    written = await _write_while_reading(store, seed, _tailing_readers(store, seen_by))

    for seen in seen_by:
        _assert_every_event_once_in_order(seen, written)


async def test_a_plain_position_reader_skips_events_under_the_same_writers(
    store: PostgresEventStore,
) -> None:
    """The control: without the store's ordering, the same workload loses events."""
    seen: list[uuid.UUID] = []

    async def naive(stop: asyncio.Event, _expected: list[int]) -> None:
        await _naive_reader(store.pool, stop, seen)

    written = await _write_while_reading(store, 1, [naive])

    missed = set(written) - set(seen)
    assert missed, "the plain reader should have skipped events committed out of order"
    print(f"plain reader: missed {len(missed)} of {len(written)} events")


async def test_a_long_open_transaction_that_writes_no_events_holds_no_reader_back(
    store: PostgresEventStore, database_url: str
) -> None:
    """An unrelated transaction with a transaction id stays open for the whole run."""
    unrelated = await asyncpg.connect(database_url)
    transaction = unrelated.transaction()
    await transaction.start()
    try:
        await unrelated.execute("CREATE TEMPORARY TABLE report (n integer)")
        await unrelated.execute("INSERT INTO report VALUES (1)")
        assert await unrelated.fetchval("SELECT pg_current_xact_id_if_assigned()") is not None
        seen_by: list[list[StoredEvent]] = [[] for _ in range(READERS)]

        written = await _write_while_reading(store, 4, _tailing_readers(store, seen_by))

        assert unrelated.is_in_transaction(), "the unrelated transaction is still open"
        for seen in seen_by:
            _assert_every_event_once_in_order(seen, written)
    finally:
        await transaction.rollback()
        await unrelated.close()


async def _read_everything(store: PostgresEventStore, after: Position) -> list[StoredEvent]:
    seen: list[StoredEvent] = []
    while page := await store.read_all(after, limit=100):
        seen.extend(page)
        after = page[-1].position
    return seen


async def test_an_open_event_writing_transaction_delays_later_events_and_loses_none(
    store: PostgresEventStore, database_url: str
) -> None:
    slow, fast = unique_stream(), unique_stream()
    connection = await asyncpg.connect(database_url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await append_in_transaction(connection, slow, 0, [new_event()])
        await append_in_transaction(connection, slow, 1, [new_event()])  # may append again
        await store.append(fast, 0, [new_event()])  # commits after the slow one began

        held_back = await _read_everything(store, Position.START)
        await transaction.commit()
        released = await _read_everything(store, Position.START)
    finally:
        await connection.close()

    assert held_back == []
    assert [(event.stream_id, event.stream_version) for event in released] == [
        (slow, 1),
        (slow, 2),
        (fast, 1),
    ]


async def test_events_must_be_the_first_writes_of_their_transaction(
    store: PostgresEventStore, database_url: str
) -> None:
    connection = await asyncpg.connect(database_url)
    scratch = "CREATE TEMPORARY TABLE scratch (n integer) ON COMMIT DROP"
    raw_insert = (
        "INSERT INTO eventstore.events (event_id, stream_id, stream_version, event_type, "
        "schema_version, occurred_at, correlation_id, data) "
        "VALUES ($1, $2, 1, 'TestHappened', 1, now(), 'test', '{}')"
    )
    refused, announced = unique_stream(), unique_stream()
    try:
        async with connection.transaction():
            await connection.execute(scratch)
            with pytest.raises(ValueError, match="before the transaction's other writes"):
                await append_in_transaction(connection, refused, 0, [new_event()])
        async with connection.transaction():
            await connection.execute(scratch)
            with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError):
                await connection.execute(raw_insert, uuid.uuid4(), refused)
        # Any other writer (an older version, a script) is announced by the table's trigger.
        async with connection.transaction():
            await connection.execute(raw_insert, uuid.uuid4(), announced)
            await connection.execute(scratch)
    finally:
        await connection.close()

    assert await store.read_stream(refused) == []
    assert [event.stream_version for event in await store.read_stream(announced)] == [1]


def test_the_trigger_announces_writers_with_the_stores_lock() -> None:
    sql = Path(store_module.__file__).with_name("sql")
    trigger = (sql / "0002_appending_lock.sql").read_text(encoding="utf-8")
    skipped = (sql / "0003_store_sessions_skip_the_trigger.sql").read_text(encoding="utf-8")

    lock = store_module.APPENDING_LOCK
    assert trigger.count(str(lock)) == 2
    assert f"classid = {lock >> 32} AND objid = {lock & 0xFFFFFFFF}" in trigger
    setting, value = store_module.STORE_SESSION_SETTING
    assert f"current_setting('{setting}', true) IS DISTINCT FROM '{value}'" in skipped


async def test_the_stores_sessions_take_the_lock_themselves(store: PostgresEventStore) -> None:
    setting, value = store_module.STORE_SESSION_SETTING

    assert await store.pool.fetchval("SELECT current_setting($1, true)", setting) == value
