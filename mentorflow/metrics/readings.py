"""Figures read from the database: relay lag, projection lag and stalls, cohorts' health.

They are states of the database, not events of a process, so any process can read them:
the relay, the projector and ``serve`` do, each every ``MENTORFLOW_METRICS_REFRESH_INTERVAL``
seconds on a connection of its own, and a scrape serves the last reading (no query runs
while Prometheus waits). Two processes reading the same figures export the same values;
dashboards and alerts take the ``max`` over instances, so either may be down.

A reading that fails (the database away, a schema not migrated yet) is logged and counted
(``mentorflow_metrics_reading_failures_total``); its series are then left out rather than
shown stale.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bus import relay_lags
from eventstore import DatabaseSettings, DatabaseUnavailable, Pool, create_pool
from eventstore.backoff import sleep_unless_stopped
from mentorflow.metrics.instruments import READING_FAILURES
from projections import all_projections, projection_status, read_cohort_health
from projections.cohort_health import MOST_MISSES_COUNTED

log = structlog.get_logger(__name__)

Families = Callable[[], Sequence[Metric]]
"""Fresh, empty metric families: names, help texts, types and label names."""


@dataclass(frozen=True)
class Reading:
    """One query's worth of figures.

    Attributes:
        name: What is read (a label of ``mentorflow_metrics_reading_failures_total``).
        families: The families it exports, empty.
        read: Reads the database and returns the families filled.
    """

    name: str
    families: Families
    read: Callable[[Pool], Awaitable[Sequence[Metric]]]


def _relay_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "mentorflow_relay_lag_events",
            "Events stored after the relay's checkpoint: not yet acknowledged by JetStream.",
            labels=["relay"],
        ),
        GaugeMetricFamily(
            "mentorflow_relay_lag_seconds",
            "Seconds the oldest event not yet on the bus has been stored (0 when caught up).",
            labels=["relay"],
        ),
    )


async def _read_relay(pool: Pool) -> Sequence[Metric]:
    events, seconds = _relay_families()
    for lag in await relay_lags(pool):
        events.add_metric([lag.relay_name], lag.events)
        seconds.add_metric([lag.relay_name], lag.seconds)
    return [events, seconds]


def _projection_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
    return (
        GaugeMetricFamily(
            "mentorflow_projection_lag_events",
            "Events of a projection's stream types in the store that it has not applied yet.",
            labels=["projection"],
        ),
        GaugeMetricFamily(
            "mentorflow_projection_stalled",
            "1 while a projection is stopped at an event it fails to apply "
            "(`mentorflow projections status` names it), else 0.",
            labels=["projection"],
        ),
    )


async def _read_projections(pool: Pool) -> Sequence[Metric]:
    lag, stalled = _projection_families()
    status = await projection_status(pool, all_projections())
    for projection in status.projections:
        lag.add_metric([projection.name], projection.events_behind)
        stalled.add_metric([projection.name], int(projection.stalled_event_id is not None))
    return [lag, stalled]


def _cohort_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, CounterMetricFamily]:
    return (
        GaugeMetricFamily(
            "mentorflow_cohort_pairs",
            "Relationships of an open cohort by stage.",
            labels=["cohort_id", "stage"],
        ),
        GaugeMetricFamily(
            "mentorflow_cohort_missing_pairs",
            "Running relationships of an open cohort whose latest conversations were all "
            f"missed, by how many in a row (1, 2, {MOST_MISSES_COUNTED}_or_more).",
            labels=["cohort_id", "consecutive_misses"],
        ),
        CounterMetricFamily(
            "mentorflow_cohort_escalations",
            "Escalations of an open cohort's relationships so far.",
            labels=["cohort_id"],
        ),
    )


def _misses_label(misses: int) -> str:
    return f"{misses}_or_more" if misses >= MOST_MISSES_COUNTED else str(misses)


async def _read_cohorts(pool: Pool) -> Sequence[Metric]:
    pairs, missing, escalations = _cohort_families()
    for cohort in await read_cohort_health(pool):
        for stage, count in sorted(cohort.pairs_by_stage.items()):
            pairs.add_metric([cohort.cohort_id, stage], count)
        for misses, count in sorted(cohort.missing_pairs.items()):
            missing.add_metric([cohort.cohort_id, _misses_label(misses)], count)
        escalations.add_metric([cohort.cohort_id], cohort.escalations)
    return [pairs, missing, escalations]


RELAY = Reading("relay", _relay_families, _read_relay)
PROJECTIONS = Reading("projections", _projection_families, _read_projections)
COHORTS = Reading("cohorts", _cohort_families, _read_cohorts)
ALL_READINGS: tuple[Reading, ...] = (RELAY, PROJECTIONS, COHORTS)
"""What the relay, the projector and ``serve`` read."""


class DatabaseReadings(Collector):
    """A collector serving the last reading of each of its `Reading`s.

    `refresh` reads them all (on the event loop); `collect`, called by prometheus_client in
    whatever thread serves the scrape, only looks at the result of the last refresh, which
    is replaced whole.
    """

    def __init__(self, readings: Sequence[Reading]) -> None:
        self.readings = tuple(readings)
        self._latest: dict[str, Sequence[Metric]] = {}

    def describe(self) -> Iterable[Metric]:
        """The families, empty: the registry checks their names at registration."""
        return [family for reading in self.readings for family in reading.families()]

    def collect(self) -> Iterable[Metric]:
        """The families of the last refresh; empty ones for readings that failed."""
        latest = self._latest
        for reading in self.readings:
            yield from latest.get(reading.name) or reading.families()

    async def refresh(self, pool: Pool) -> None:
        """Take every reading once; a failed one is logged, counted and left out."""
        latest: dict[str, Sequence[Metric]] = {}
        for reading in self.readings:
            try:
                latest[reading.name] = await reading.read(pool)
            except Exception as error:  # metrics never take a service down
                READING_FAILURES.labels(reading=reading.name).inc()
                log.warning(
                    "metrics reading failed", reading=reading.name, error_type=type(error).__name__
                )
        self._latest = latest

    async def run(self, database: DatabaseSettings, stop: asyncio.Event, interval: float) -> None:
        """Refresh every ``interval`` seconds until ``stop`` is set, on a pool of one connection.

        The database may be away at first: the pool is opened as soon as it answers.
        """
        pool = await _open_pool(dataclasses.replace(database, min_size=1, max_size=1), stop)
        if pool is None:
            return
        try:
            while not stop.is_set():
                await self.refresh(pool)
                if await sleep_unless_stopped(stop, interval):
                    return
        finally:
            await pool.close()


async def _open_pool(database: DatabaseSettings, stop: asyncio.Event) -> Pool | None:
    while not stop.is_set():
        try:
            return await create_pool(database)
        except DatabaseUnavailable as error:
            log.warning("metrics waiting for the database", error_type=type(error).__name__)
            if await sleep_unless_stopped(stop, 5.0):
                break
    return None
