"""The event-store contract, run against every implementation.

Every test of `TestEventStoreContract` runs once per store: PostgreSQL (on the session's
server) and in memory (no server; what `make test-fast` runs).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from eventstore import (
    DuplicateEventConflict,
    EventsNotStorable,
    EventStore,
    Position,
    PostgresEventStore,
    StreamVersionConflict,
)
from eventstore.memory import InMemoryEventStore
from tests.support import create_database, new_event, unique_stream


@pytest.fixture(scope="module")
async def postgres_store(postgres_server_url: str) -> AsyncIterator[PostgresEventStore]:
    store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "contract"), max_size=60
    )
    yield store
    await store.close()


@pytest.fixture
def memory_store() -> EventStore:
    return InMemoryEventStore()


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.servers), "memory"])
def store(request: pytest.FixtureRequest) -> EventStore:
    implementation: EventStore = request.getfixturevalue(f"{request.param}_store")
    return implementation


class TestEventStoreContract:
    async def test_append_assigns_contiguous_versions_from_one(self, store: EventStore) -> None:
        stream = unique_stream()
        first = await store.append(stream, 0, [new_event(), new_event()])
        second = await store.append(stream, 2, [new_event()])

        assert (first.first_version, first.last_version) == (1, 2)
        assert (second.first_version, second.last_version) == (3, 3)
        assert not first.duplicate
        envelopes = await store.read_stream(stream)
        assert [envelope.stream_version for envelope in envelopes] == [1, 2, 3]
        assert await store.stream_version(stream) == 3

    async def test_envelope_carries_every_field_of_the_contract(self, store: EventStore) -> None:
        stream = unique_stream("cohort")
        event = new_event("CohortLaunched", data={"cohort_id": "c-1", "nested": {"a": [1, 2]}})
        result = await store.append(stream, 0, [event])

        (envelope,) = await store.read_stream(stream)
        assert envelope.event_id == event.event_id
        assert envelope.event_type == "CohortLaunched"
        assert envelope.schema_version == 1
        assert envelope.stream_id == stream
        assert envelope.stream_type == "cohort"
        assert envelope.global_position == result.global_positions[0]
        assert envelope.occurred_at == event.occurred_at
        assert envelope.recorded_at.utcoffset() is not None
        assert envelope.correlation_id == event.correlation_id
        assert envelope.data == {"cohort_id": "c-1", "nested": {"a": [1, 2]}}

    async def test_stale_expected_version_raises_typed_conflict(self, store: EventStore) -> None:
        stream = unique_stream()
        await store.append(stream, 0, [new_event(), new_event()])

        with pytest.raises(StreamVersionConflict) as raised:
            await store.append(stream, 1, [new_event()])

        assert (raised.value.stream_id, raised.value.expected, raised.value.actual) == (
            stream,
            1,
            2,
        )
        assert await store.stream_version(stream) == 2

    async def test_expected_version_ahead_of_the_stream_is_a_conflict(
        self, store: EventStore
    ) -> None:
        stream = unique_stream()
        with pytest.raises(StreamVersionConflict):
            await store.append(stream, 3, [new_event()])
        assert await store.read_stream(stream) == []

    async def test_retried_identical_append_writes_nothing_twice(self, store: EventStore) -> None:
        stream = unique_stream()
        events = [new_event(), new_event()]
        first = await store.append(stream, 0, events)
        await store.append(stream, 2, [new_event()])

        retried = await store.append(stream, 0, events)

        assert retried.duplicate
        assert retried.global_positions == first.global_positions
        assert len(await store.read_stream(stream)) == 3

    async def test_different_event_at_existing_version_is_a_conflict(
        self, store: EventStore
    ) -> None:
        stream = unique_stream()
        original = new_event()
        await store.append(stream, 0, [original])

        with pytest.raises(StreamVersionConflict):
            await store.append(stream, 0, [new_event()])
        with pytest.raises(StreamVersionConflict):  # partly the same append
            await store.append(stream, 0, [original, new_event()])

        assert [e.event_id for e in await store.read_stream(stream)] == [original.event_id]

    async def test_event_id_stored_on_another_stream_is_a_conflict(self, store: EventStore) -> None:
        event = new_event()
        await store.append(unique_stream(), 0, [event])
        other = unique_stream()

        with pytest.raises(DuplicateEventConflict):
            await store.append(other, 0, [event])
        assert await store.stream_version(other) == 0

    async def test_append_is_all_or_nothing(self, store: EventStore) -> None:
        taken = new_event()
        await store.append(unique_stream(), 0, [taken])
        stream = unique_stream()

        with pytest.raises(DuplicateEventConflict):
            await store.append(stream, 0, [new_event(), taken, new_event()])
        assert await store.read_stream(stream) == []

    async def test_empty_append_is_rejected(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match="at least one event"):
            await store.append(unique_stream(), 0, [])

    @pytest.mark.parametrize("value", ["a\u0000b", float("nan")], ids=["nul", "nan"])
    async def test_data_json_cannot_hold_is_refused_and_nothing_stored(
        self, store: EventStore, value: object
    ) -> None:
        stream = unique_stream()

        with pytest.raises(EventsNotStorable):
            await store.append(stream, 0, [new_event(), new_event(data={"value": value})])
        assert await store.read_stream(stream) == []

    async def test_read_stream_from_a_version_with_a_limit(self, store: EventStore) -> None:
        stream = unique_stream()
        await store.append(stream, 0, [new_event(data={"n": n}) for n in range(1, 8)])

        page = await store.read_stream(stream, from_version=3, limit=2)

        assert [(e.stream_version, e.data["n"]) for e in page] == [(3, 3), (4, 4)]

    async def test_read_all_pages_through_every_event_once_in_order(
        self, store: EventStore
    ) -> None:
        stream = unique_stream()
        await store.append(stream, 0, [new_event(data={"n": n}) for n in range(25)])
        mine: list[int] = []
        seen: set[uuid.UUID] = set()
        position = Position.START
        while page := await store.read_all(position, limit=7):
            assert len(page) <= 7
            for stored in page:
                assert stored.position > position
                assert stored.envelope.event_id not in seen
                seen.add(stored.envelope.event_id)
                position = stored.position
                if stored.envelope.stream_id == stream:
                    mine.append(stored.envelope.data["n"])
        assert mine == list(range(25))

    async def test_concurrent_appends_at_the_same_expected_version_exactly_one_wins(
        self, store: EventStore
    ) -> None:
        stream = unique_stream()
        await store.append(stream, 0, [new_event()])

        outcomes = await asyncio.gather(
            *(store.append(stream, 1, [new_event(data={"writer": n})]) for n in range(50)),
            return_exceptions=True,
        )

        winners = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        losers = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        assert len(winners) == 1
        assert all(isinstance(loser, StreamVersionConflict) for loser in losers)
        assert await store.stream_version(stream) == 2

    async def test_concurrent_retries_of_one_append_store_it_once(self, store: EventStore) -> None:
        stream = unique_stream()
        events = [new_event(), new_event()]

        results = await asyncio.gather(*(store.append(stream, 0, events) for _ in range(10)))

        assert sum(not result.duplicate for result in results) == 1
        assert len({tuple(result.global_positions) for result in results}) == 1
        assert len(await store.read_stream(stream)) == 2
