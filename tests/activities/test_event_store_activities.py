"""The append activity: idempotent on retry, conflicts non-retryable."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.errors import database_errors
from activities.event_store import AppendEventsInput, EventStoreActivities
from eventstore import DatabaseSettings, DataRejected, PostgresEventStore, create_pool
from tests.support import (
    create_database,
    fail_while_waiting_for_a_lock,
    new_event,
    open_vault,
    unique_stream,
)


@pytest.fixture(scope="module")
async def activities(postgres_server_url: str) -> AsyncIterator[EventStoreActivities]:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "acts"))
    yield EventStoreActivities(store, await open_vault(store.pool))
    await store.close()


async def test_a_retried_append_that_already_committed_is_a_no_op(
    activities: EventStoreActivities,
) -> None:
    request = AppendEventsInput(
        stream_id=unique_stream(), expected_version=0, events=[new_event(), new_event()]
    )
    environment = ActivityEnvironment()

    first = await environment.run(activities.append_events, request)
    retried = await environment.run(activities.append_events, request)

    assert (first.first_version, first.last_version, first.duplicate) == (1, 2, False)
    assert retried.duplicate
    assert retried.global_positions == first.global_positions


async def test_a_version_conflict_is_non_retryable_and_typed(
    activities: EventStoreActivities,
) -> None:
    stream = unique_stream()
    environment = ActivityEnvironment()
    await environment.run(
        activities.append_events,
        AppendEventsInput(stream_id=stream, expected_version=0, events=[new_event()]),
    )

    with pytest.raises(ApplicationError) as raised:
        await environment.run(
            activities.append_events,
            AppendEventsInput(stream_id=stream, expected_version=0, events=[new_event()]),
        )

    assert raised.value.type == "StreamVersionConflict"
    assert raised.value.non_retryable
    assert raised.value.details[0] == {"stream_id": stream, "expected": 0, "actual": 1}


async def test_appending_personal_text_never_logs_it_nor_stores_it_in_clear(
    activities: EventStoreActivities, caplog: pytest.LogCaptureFixture
) -> None:
    sentinel = "SENTINEL-private-struggle-7f3a"
    request = AppendEventsInput(
        stream_id=unique_stream(),
        expected_version=0,
        events=[
            new_event("MentorshipMatched", data={"mentee_id": "p-1", "mentor_id": "p-2"}),
            new_event("ConversationHeld", data={"notes": sentinel, "feedback_to_mentor": sentinel}),
        ],
    )

    with caplog.at_level(logging.DEBUG):
        await ActivityEnvironment().run(activities.append_events, request)

    # Nor stores it in clear: sealed for the mentee (notes) and the mentor (feedback).
    [_, stored] = await activities.store.read_stream(request.stream_id)
    assert sentinel not in repr(stored.data)
    assert stored.data["notes"].startswith("sealed:v2:p-1:")
    assert stored.data["feedback_to_mentor"].startswith("sealed:v2:p-2:")

    assert caplog.records, "the activity logs its appends"
    assert sentinel not in caplog.text
    assert all(sentinel not in repr(record.__dict__) for record in caplog.records)


async def test_an_append_cut_off_by_the_server_is_retryable(postgres_server_url: str) -> None:
    url = await create_database(postgres_server_url, "acts_cut")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=2))
    holder = await asyncpg.connect(url)
    try:
        store = await PostgresEventStore.open(pool)
        activities = EventStoreActivities(store, await open_vault(pool))
        request = AppendEventsInput(
            stream_id=unique_stream(),
            expected_version=0,
            events=[
                new_event("MentorshipMatched", data={"mentee_id": "p-71", "mentor_id": "p-72"}),
                new_event("ConversationHeld", data={"notes": "private", "feedback_to_mentor": ""}),
            ],
        )
        # A concurrent forgetting of the mentee holds their lock: sealing waits for it.
        await holder.execute("SELECT pg_advisory_lock(hashtextextended('vault:person:p-71', 0))")

        error = await fail_while_waiting_for_a_lock(
            url, ActivityEnvironment().run(activities.append_events, request)
        )
        await holder.execute("SELECT pg_advisory_unlock_all()")

        assert isinstance(error, ApplicationError)
        assert (error.type, error.non_retryable) == ("DatabaseUnavailable", False)
        assert "private" not in str(error)
        retried = await ActivityEnvironment().run(activities.append_events, request)
        assert (retried.first_version, retried.duplicate) == (1, False)
    finally:
        await holder.close()
        await pool.close()


async def test_data_postgresql_refuses_is_non_retryable(postgres_server_url: str) -> None:
    pool = await create_pool(DatabaseSettings(await create_database(postgres_server_url, "acts")))
    try:
        with pytest.raises(ApplicationError) as raised, database_errors():
            await pool.fetchval("SELECT 1 / 0")  # division_by_zero: SQLSTATE class 22
    finally:
        await pool.close()

    assert (raised.value.type, raised.value.non_retryable) == ("DataRejected", True)
    assert isinstance(raised.value.__cause__, DataRejected)
