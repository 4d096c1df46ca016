"""Lag against the store head and events per second."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from eventstore import PostgresEventStore
from projections import (
    ProjectionRunner,
    RateMeter,
    RunnerOptions,
    all_projections,
    metrics,
    projection_status,
)
from tests.projections.streams import append_interleaved, scenario, stored_envelopes


async def test_lag_counts_the_events_a_projection_has_not_applied(
    store: PostgresEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = scenario(2)
    total = await append_interleaved(store, streams)
    envelopes = await stored_envelopes(store)
    cohort_events = len(streams[0].events)
    projections = all_projections()

    status = await projection_status(store.pool, projections)
    assert status.store_events == total
    assert status.head_position == max(envelope.global_position for envelope in envelopes)
    behind = {lag.name: lag.events_behind for lag in status.projections}
    assert behind["cohort_dashboard"] == total
    assert behind["mentorship_overview"] == total - cohort_events

    # The projection applies its events within the sampling window, whatever the machine's
    # speed: the window's wait is where the runner catches up.
    overview = ProjectionRunner(projections[0], store, options=RunnerOptions(page_size=1))

    async def catch_up_during(seconds: float) -> None:
        assert seconds == 0.3
        await overview.catch_up()

    monkeypatch.setattr(metrics, "asyncio", SimpleNamespace(sleep=catch_up_during))
    sampled = await projection_status(store.pool, projections, sample_seconds=0.3)
    status = await projection_status(store.pool, projections)
    lag = {lag.name: lag for lag in status.projections}["mentorship_overview"]
    assert (lag.events_behind, lag.positions_behind) == (0, 0)
    assert lag.events_applied == total - cohort_events
    assert lag.streams == len(streams) - 1
    rate = {lag.name: lag.events_per_second for lag in sampled.projections}
    assert rate["mentorship_overview"] is not None
    assert rate["mentorship_overview"] > 0
    assert rate["review_summaries"] == 0


def test_the_rate_meter_averages_over_its_window() -> None:
    meter = RateMeter(window=60.0)
    meter.add(30)
    meter.add(30)
    assert meter.per_second() == 1.0
    assert meter.total == 60
