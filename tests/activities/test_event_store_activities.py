"""The append activity: idempotent on retry, conflicts non-retryable."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.event_store import AppendEventsInput, EventStoreActivities
from eventstore import PostgresEventStore
from tests.support import create_database, new_event, open_vault, unique_stream


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
