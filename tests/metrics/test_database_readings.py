"""The database's figures as a process serves them: relay lag, projection lag and stalls,
cohorts' health; scraped over HTTP from `process_metrics`, on the session's PostgreSQL and
NATS."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from pydantic import ValidationError

from bus import RelayCheckpoints, migrate_bus_schema
from devstack.stack import StackAddresses, free_port
from events import NewEvent
from events import mentorship as m
from eventstore import Position, PostgresEventStore
from mentorflow.metrics import ALL_READINGS, Reading, process_metrics
from mentorflow.metrics.readings import COHORTS, PROJECTIONS, RELAY
from mentorflow.settings import MetricsSettings, Settings
from projections import ProjectionRunner, all_projections, migrate_read_models
from tests.bus.support import isolated_bus_config, relay_running
from tests.metrics.support import Scrape, labels, scrape
from tests.projections.streams import DAY, START, append_interleaved, scenario
from tests.projections.support import project_all
from tests.projections.test_runner import append_poisoned
from tests.support import assert_eventually, create_database

pytestmark = pytest.mark.servers

Scraper = Callable[[], Awaitable[Scrape]]


@pytest.fixture
async def store(clean_database: str) -> AsyncIterator[PostgresEventStore]:
    """An event store with migrated read models, in the test's database."""
    store = await PostgresEventStore.connect(clean_database, max_size=4)
    await migrate_read_models(store.pool)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def serving(database_url: str, readings: Sequence[Reading]) -> AsyncIterator[Scraper]:
    """`process_metrics` with ``readings`` on a free port and a registry of the test's own."""
    address = f"127.0.0.1:{free_port()}"
    settings = Settings(
        database_url=database_url,
        metrics=MetricsSettings(address=address, refresh_interval=0.1),
    )
    async with process_metrics(settings, readings=readings, registry=CollectorRegistry()):
        yield lambda: scrape(f"http://{address}/metrics")


def _events(count: int) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            event_type="MentorshipEscalated",
            schema_version=1,
            occurred_at=datetime.now(UTC),
            correlation_id="test",
            data={"consecutive_misses": 2, "reason": "two missed"},
        )
        for _ in range(count)
    ]


async def test_relay_lag_counts_what_is_not_on_the_bus_yet_and_is_zero_once_relayed(
    store: PostgresEventStore, clean_database: str, stack: StackAddresses
) -> None:
    await store.append(f"mentorship-{uuid.uuid4()}", 0, _events(3))
    await store.append(f"mentorship-{uuid.uuid4()}", 0, _events(2))

    async with serving(clean_database, [RELAY]) as read:
        behind = await assert_eventually(
            read,
            lambda scrape: scrape.value("mentorflow_relay_lag_events", relay="default") == 5,
            message="five events behind",
        )
        async with relay_running(clean_database, isolated_bus_config(stack.nats_url)):
            caught_up = await assert_eventually(
                read,
                lambda scrape: scrape.value("mentorflow_relay_lag_events", relay="default") == 0,
                timeout=30,
                message="relay caught up",
            )

    waited = behind.value("mentorflow_relay_lag_seconds", relay="default")
    assert waited is not None
    assert waited > 0
    assert caught_up.value("mentorflow_relay_lag_seconds", relay="default") == 0
    assert behind.families["mentorflow_relay_lag_events"].documentation


async def test_a_relay_of_another_name_is_the_one_reported_once_it_has_a_checkpoint(
    store: PostgresEventStore, clean_database: str
) -> None:
    await store.append(f"mentorship-{uuid.uuid4()}", 0, _events(2))
    await migrate_bus_schema(store.pool)
    await RelayCheckpoints(store.pool, "eu-cluster").save(Position.START)

    async with serving(clean_database, [RELAY]) as read:
        seen = await assert_eventually(
            read, lambda scrape: bool(scrape.series("mentorflow_relay_lag_events"))
        )

    assert seen.series("mentorflow_relay_lag_events") == {labels(relay="eu-cluster"): 2}


async def test_a_stalled_projection_is_flagged_with_what_it_has_not_applied(
    store: PostgresEventStore, clean_database: str
) -> None:
    stream_id, _, length = await append_poisoned(store)  # the fourth event cannot be applied
    readers = {projection.name for projection in all_projections() if projection.handles(stream_id)}
    for projection in all_projections():
        if projection.name in readers:
            with pytest.raises(ValidationError):
                await ProjectionRunner(projection, store).catch_up()
        else:
            await ProjectionRunner(projection, store).catch_up()

    async with serving(clean_database, [PROJECTIONS]) as read:
        seen = await assert_eventually(
            read, lambda scrape: bool(scrape.series("mentorflow_projection_stalled"))
        )

    stalled = seen.series("mentorflow_projection_stalled")
    lag = seen.series("mentorflow_projection_lag_events")
    assert {dict(series)["projection"] for series in stalled} == {
        projection.name for projection in all_projections()
    }
    assert readers
    for projection in all_projections():
        key = labels(projection=projection.name)
        if projection.name in readers:
            assert (stalled[key], lag[key]) == (1, length - 3), projection.name
        else:
            assert (stalled[key], lag[key]) == (0, 0), projection.name


async def test_cohort_figures_follow_the_dashboard_and_leave_closed_cohorts_out(
    store: PostgresEventStore, clean_database: str
) -> None:
    streams = scenario(4)
    running_pair = streams[1]  # the one relationship of the scenario still running
    due = START + 400 * DAY
    for number, misses in ((20, 1), (21, 2), (22, 3)):
        running_pair.add(
            m.ConversationMissed(
                conversation_number=number,
                due_at=due,
                consecutive_misses=misses,
                next_conversation_due=due + 14 * DAY,
            ),
            due,
        )
        due += 14 * DAY
    running_pair.add(m.MentorshipEscalated(consecutive_misses=3, reason="3 missed"), due)
    await append_interleaved(store, streams)
    await project_all(store)
    relationships = streams[1:]
    cohort_id = relationships[0].stream_id.split("-")[1]
    rows = await store.pool.fetch(
        "SELECT stage, consecutive_misses FROM read_models.dashboard_pairs WHERE cohort_id = $1",
        cohort_id,
    )
    escalations = sum(
        isinstance(event, m.MentorshipEscalated)
        for stream in relationships
        for event, _ in stream.events
    )
    running = [row for row in rows if row["stage"] not in {"closing", "closed"}]

    async with serving(clean_database, [COHORTS]) as read:
        seen = await assert_eventually(
            read, lambda scrape: bool(scrape.series("mentorflow_cohort_pairs"))
        )
        await store.pool.execute(
            "UPDATE read_models.dashboard_cohorts SET closed_at = now() WHERE cohort_id = $1",
            cohort_id,
        )
        closed = await assert_eventually(
            read, lambda scrape: not scrape.series("mentorflow_cohort_pairs")
        )

    pairs = {
        dict(series)["stage"]: value
        for series, value in seen.series("mentorflow_cohort_pairs").items()
        if dict(series)["cohort_id"] == cohort_id
    }
    assert pairs == dict(Counter(row["stage"] for row in rows))
    assert sum(pairs.values()) == len(relationships)
    assert seen.value("mentorflow_cohort_escalations_total", cohort_id=cohort_id) == escalations
    assert escalations > 0
    missing = {
        dict(series)["consecutive_misses"]: value
        for series, value in seen.series("mentorflow_cohort_missing_pairs").items()
    }
    expected = Counter(
        "3_or_more" if row["consecutive_misses"] >= 3 else str(row["consecutive_misses"])
        for row in running
        if row["consecutive_misses"] > 0
    )
    assert missing == dict(expected)
    assert missing["3_or_more"] >= 1
    assert not closed.series("mentorflow_cohort_escalations_total")


async def test_a_failed_reading_is_counted_and_its_series_left_out(
    postgres_server_url: str,
) -> None:
    empty = await create_database(postgres_server_url, "no_schema")  # nothing migrated
    failures = {
        reading.name: REGISTRY.get_sample_value(
            "mentorflow_metrics_reading_failures_total", {"reading": reading.name}
        )
        or 0.0
        for reading in ALL_READINGS
    }

    async with serving(empty, ALL_READINGS) as read:
        await assert_eventually(
            lambda: _failures(ALL_READINGS),
            lambda now: all(now[name] > failures[name] for name in failures),
            message="every reading failed",
        )
        seen = await read()

    for family in (
        "mentorflow_relay_lag_events",
        "mentorflow_projection_stalled",
        "mentorflow_cohort_pairs",
        "mentorflow_cohort_escalations",
    ):
        assert family in seen.families, family  # declared, with its help text
        assert not seen.families[family].samples, family


async def _failures(readings: Sequence[Reading]) -> dict[str, float]:
    return {
        reading.name: REGISTRY.get_sample_value(
            "mentorflow_metrics_reading_failures_total", {"reading": reading.name}
        )
        or 0.0
        for reading in readings
    }
