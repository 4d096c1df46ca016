"""Event-store append latency: the store's observer, and the histogram it feeds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from events import NewEvent
from eventstore import PostgresEventStore, StreamVersionConflict, create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.metrics import observe_append

pytestmark = pytest.mark.servers

HISTOGRAM = "mentorflow_eventstore_append_duration_seconds"
STORED = "mentorflow_eventstore_appended_events_total"


@dataclass
class Appends:
    """Every append the store told of."""

    seen: list[tuple[str, int, float]] = field(default_factory=list)

    def __call__(self, *, outcome: str, events: int, seconds: float) -> None:
        self.seen.append((outcome, events, seconds))
        observe_append(outcome=outcome, events=events, seconds=seconds)


@pytest.fixture
async def observed(clean_database: str) -> AsyncIterator[tuple[PostgresEventStore, Appends]]:
    """A store over a pool of the test's database, observed as the worker's is."""
    pool = await create_pool(DatabaseSettings(clean_database, min_size=1, max_size=2))
    appends = Appends()
    try:
        store = await PostgresEventStore.open(pool, on_append=appends)
        yield store, appends
        await store.close()
    finally:
        await pool.close()


def _events(count: int) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type="MentorshipPaused",
            schema_version=1,
            occurred_at=datetime.now(UTC),
            correlation_id="test",
            data={"reason": "leave", "paused_at": datetime.now(UTC).isoformat()},
        )
        for _ in range(count)
    ]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_every_append_is_timed_by_outcome_and_the_histogram_moves(
    observed: tuple[PostgresEventStore, Appends],
) -> None:
    store, appends = observed
    stream_id = f"mentorship-{uuid.uuid4()}"
    events = _events(3)
    outcomes = ("appended", "duplicate", "conflict")
    counts = {outcome: _sample(f"{HISTOGRAM}_count", outcome=outcome) for outcome in outcomes}
    seconds = _sample(f"{HISTOGRAM}_sum", outcome="appended")
    stored = _sample(STORED)

    await store.append(stream_id, 0, events)
    await store.append(stream_id, 0, events)  # an idempotent retry
    with pytest.raises(StreamVersionConflict):
        await store.append(stream_id, 0, _events(1))

    assert [(outcome, count) for outcome, count, _ in appends.seen] == [
        ("appended", 3),
        ("duplicate", 3),
        ("conflict", 1),
    ]
    assert all(took > 0 for _, _, took in appends.seen)
    grown = {
        outcome: _sample(f"{HISTOGRAM}_count", outcome=outcome) - counts[outcome]
        for outcome in outcomes
    }
    assert grown == dict.fromkeys(outcomes, 1)
    assert _sample(f"{HISTOGRAM}_sum", outcome="appended") > seconds
    assert _sample(f"{HISTOGRAM}_bucket", outcome="appended", le="+Inf") == _sample(
        f"{HISTOGRAM}_count", outcome="appended"
    )
    assert _sample(STORED) == stored + 3  # the retry stored nothing
