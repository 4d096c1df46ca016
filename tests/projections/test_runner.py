"""The store-tailing runner: a failing event stalls its projection until skipped; one runner
is active per projection."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest
import structlog

from events import NewEvent
from eventstore import PostgresEventStore
from projections import (
    SCHEMA,
    EventAlreadyApplied,
    EventNotFound,
    all_projections,
    projection_status,
    rebuild_projections,
    run_projector,
    skip_event,
)
from tests.projections.streams import START, scenario, stored_envelopes
from tests.projections.support import (
    FAST,
    running_projector,
    snapshot,
    wait_until_caught_up,
)
from tests.support import assert_eventually

PRIVATE = "my very private note"


async def append_poisoned(store: PostgresEventStore) -> tuple[str, uuid.UUID, int]:
    """A relationship whose fourth event does not validate; returns its stream, the poison's
    id and the stream's length."""
    stream = scenario(1)[1]
    events = stream.new_events()
    poison = NewEvent(
        event_id=uuid.uuid4(),
        event_type="ConversationHeld",
        schema_version=1,
        occurred_at=START,
        correlation_id="test",
        data={"notes": PRIVATE, "held_at": "yesterday"},
    )
    await store.append(stream.stream_id, 0, [*events[:3], poison, *events[3:]])
    return stream.stream_id, poison.event_id, len(events) + 1


async def _version(store: PostgresEventStore, projection: str, stream_id: str) -> int | None:
    version: int | None = await store.pool.fetchval(
        f"SELECT version FROM {SCHEMA}.checkpoints WHERE projection = $1 AND stream_id = $2",
        projection,
        stream_id,
    )
    return version


async def test_a_failing_event_stalls_its_projection_until_skipped_and_the_skip_is_recorded(
    database_url: str, store: PostgresEventStore
) -> None:
    stream_id, poison_id, length = await append_poisoned(store)
    readers = {projection.name for projection in all_projections() if projection.handles(stream_id)}

    with structlog.testing.capture_logs() as logs:
        async with running_projector(database_url, store):
            await assert_eventually(
                lambda: projection_status(store.pool, all_projections()),
                lambda status: all(
                    lag.stalled_event_id == str(poison_id)
                    for lag in status.projections
                    if lag.name in readers
                ),
                timeout=20,
                message="every projection stalls at the poison",
            )
            status = await projection_status(store.pool, all_projections())
            lags = {lag.name: lag for lag in status.projections}
            overview = lags["mentorship_overview"]
            assert overview.stalled_error is not None
            assert overview.stalled_error.startswith("ValidationError")
            assert "goal_ids" in overview.stalled_error
            assert overview.stalled_attempts >= 1
            # Stopped right before the poison: the three events before it are in.
            assert await _version(store, "mentorship_overview", stream_id) == 3

            record = await skip_event(
                store.pool, "mentorship_overview", poison_id, "bad import, ticket 42", "ops-ana"
            )
            assert (record.stream_id, record.stream_version) == (stream_id, 4)
            await assert_eventually(
                lambda: _version(store, "mentorship_overview", stream_id),
                lambda version: version == length,
                timeout=20,
                message="the overview moves past the skipped event",
            )
            # Only that projection moved past it; the others still stall there.
            status = await projection_status(store.pool, all_projections())
            lags = {lag.name: lag for lag in status.projections}
            assert lags["mentorship_overview"].stalled_event_id is None
            assert lags["development_plan"].stalled_event_id == str(poison_id)
            assert await _version(store, "development_plan", stream_id) == 3

            for projection in all_projections():
                if projection.handles(stream_id) and projection.name != "mentorship_overview":
                    await skip_event(store.pool, projection.name, poison_id, "same", "ops-ana")
            await wait_until_caught_up(
                store.pool, all_projections(), await stored_envelopes(store), timeout=20
            )
            live = await snapshot(store.pool, all_projections())

    row = await store.pool.fetchrow(
        f"SELECT skipped, version FROM {SCHEMA}.checkpoints "
        "WHERE projection = 'mentorship_overview' AND stream_id = $1",
        stream_id,
    )
    assert row is not None
    assert (row["version"], row["skipped"]) == (length, 1)  # exactly one event passed over
    recorded = await store.pool.fetch(
        f"SELECT projection, event_id, reason, skipped_by, skipped_at FROM {SCHEMA}.skips"
    )
    assert {(r["event_id"], r["skipped_by"]) for r in recorded} == {(poison_id, "ops-ana")}
    assert any(r["reason"] == "bad import, ticket 42" for r in recorded)
    assert any(entry["event"] == "projection.event_skipped" for entry in logs)
    assert any(entry["event"] == "projection.stalled" for entry in logs)
    assert PRIVATE not in repr(logs)
    assert PRIVATE not in repr(await store.pool.fetch(f"SELECT * FROM {SCHEMA}.positions"))

    await rebuild_projections(store)  # skips the same event: equal to the live read models
    assert await snapshot(store.pool, all_projections()) == live


async def test_a_skip_of_an_applied_or_unknown_event_is_refused(
    database_url: str, store: PostgresEventStore
) -> None:
    cohort, relationship = scenario(1)[:2]
    await store.append(cohort.stream_id, 0, cohort.new_events())
    await store.append(relationship.stream_id, 0, relationship.new_events())
    envelopes = await stored_envelopes(store)
    first = next(e for e in envelopes if e.stream_id == relationship.stream_id)
    cohort_event = next(e for e in envelopes if e.stream_id == cohort.stream_id)
    async with running_projector(database_url, store):
        await wait_until_caught_up(store.pool, all_projections(), envelopes)

    with pytest.raises(EventAlreadyApplied):
        await skip_event(store.pool, "mentorship_overview", first.event_id, "late", "ops")
    with pytest.raises(EventNotFound):
        await skip_event(store.pool, "mentorship_overview", uuid.uuid4(), "no such", "ops")
    with pytest.raises(EventNotFound):  # a cohort event: not of the overview's streams
        await skip_event(store.pool, "mentorship_overview", cohort_event.event_id, "no", "ops")
    assert await store.pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.skips") == 0


async def test_two_projectors_one_active_per_projection_the_other_takes_over(
    database_url: str, store: PostgresEventStore
) -> None:
    streams = scenario(4, seed=5)
    projections = all_projections()
    first_stop = asyncio.Event()
    async with running_projector(database_url, store) as second:
        first = asyncio.create_task(run_projector(store, database_url, first_stop, options=FAST))
        for stream in streams[:2]:
            await store.append(stream.stream_id, 0, stream.new_events())
        await wait_until_caught_up(store.pool, projections, await stored_envelopes(store))
        locks = await store.pool.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert locks == len(projections)  # one holder per projection, not two
        first.cancel()  # whichever projections it held, the other projector takes them over
        with contextlib.suppress(asyncio.CancelledError):
            await first
        for stream in streams[2:]:
            await store.append(stream.stream_id, 0, stream.new_events())
        await wait_until_caught_up(store.pool, projections, await stored_envelopes(store))
        assert not second.done()
        live = await snapshot(store.pool, projections)
    await rebuild_projections(store)
    assert await snapshot(store.pool, projections) == live
