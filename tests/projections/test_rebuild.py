"""Rebuild: fresh tables from the store, swapped in, equal to what the live path built."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from events import EventEnvelope
from eventstore import Position, PostgresEventStore
from projections import (
    RebuildInProgress,
    UnknownProjection,
    all_projections,
    rebuild_projections,
    select_projections,
)
from projections import rebuild as rebuild_module
from tests.projections.streams import append_interleaved, scenario, stored_envelopes
from tests.projections.support import project_all, snapshot, wait_until_caught_up


async def _feed_shuffled(store: PostgresEventStore, envelopes: list[EventEnvelope]) -> None:
    """The live path: every projection's runner catches up with the store (twice over, as
    a runner restarted before saving its position would)."""
    del envelopes  # the runners read the store themselves
    await project_all(store)
    await project_all(store)


async def test_a_rebuild_gives_exactly_the_rows_of_the_live_projection(
    store: PostgresEventStore,
) -> None:
    await append_interleaved(store, scenario(4, people=True))
    envelopes = await stored_envelopes(store)
    await _feed_shuffled(store, envelopes)
    projections = all_projections()
    live = await snapshot(store.pool, projections)
    progress: list[tuple[int, int]] = []

    result = await rebuild_projections(
        store, page_size=7, on_progress=lambda done, total: progress.append((done, total))
    )

    assert await snapshot(store.pool, projections) == live
    assert result.events == len(envelopes)
    assert progress[-1] == (len(envelopes), len(envelopes))
    assert sorted(result.projections) == sorted(p.name for p in projections)


async def test_rebuilding_one_projection_leaves_the_others_alone(
    store: PostgresEventStore,
) -> None:
    await append_interleaved(store, scenario(2))
    await _feed_shuffled(store, await stored_envelopes(store))
    before = await snapshot(store.pool, all_projections())
    await store.pool.execute("DELETE FROM read_models.mentorship_overview")
    await store.pool.execute("DELETE FROM read_models.development_goals")

    await rebuild_projections(store, ["mentorship_overview"])

    after = await snapshot(store.pool, all_projections())
    assert after["mentorship_overview"] == before["mentorship_overview"]
    assert after["development_goals"] == []


async def test_a_rebuild_during_live_traffic_loses_nothing(store: PostgresEventStore) -> None:
    streams = scenario(6, people=True)
    await append_interleaved(store, streams[:3])
    projections = all_projections()

    async def live_traffic() -> None:
        await append_interleaved(store, streams[3:], chunk=1)
        await _feed_shuffled(store, await stored_envelopes(store))

    await asyncio.gather(live_traffic(), rebuild_projections(store, page_size=5))
    envelopes = await stored_envelopes(store)
    await _feed_shuffled(store, envelopes)  # what the bus still delivers after the swap
    await wait_until_caught_up(store.pool, projections, envelopes, timeout=5)
    live = await snapshot(store.pool, projections)

    await rebuild_projections(store)

    assert await snapshot(store.pool, projections) == live


async def test_events_applied_live_after_the_replay_are_caught_up_at_the_swap(
    store: PostgresEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = scenario(3)
    await append_interleaved(store, streams[:2])
    await _feed_shuffled(store, await stored_envelopes(store))
    replay = rebuild_module._replay

    async def replay_then_live_traffic(*args: Any, **kwargs: Any) -> tuple[int, Position]:
        events = await replay(*args, **kwargs)
        # After the replay, before the swap: new relationships, applied by the live path.
        await append_interleaved(store, streams[2:])
        await _feed_shuffled(store, await stored_envelopes(store))
        return events

    monkeypatch.setattr(rebuild_module, "_replay", replay_then_live_traffic)
    projections = all_projections()

    result = await rebuild_projections(store)

    envelopes = await stored_envelopes(store)
    late = {stream.stream_id for stream in streams[2:]}
    late_applications = sum(
        1
        for envelope in envelopes
        if envelope.stream_id in late
        for projection in projections
        if projection.handles(envelope.stream_id)
    )
    assert result.caught_up == late_applications
    await wait_until_caught_up(store.pool, projections, envelopes, timeout=1)
    rebuilt = await snapshot(store.pool, projections)
    monkeypatch.undo()
    await rebuild_projections(store)
    assert await snapshot(store.pool, projections) == rebuilt


async def test_only_one_rebuild_runs_at_a_time(store: PostgresEventStore) -> None:
    async with store.pool.acquire() as connection:
        await connection.execute(
            "SELECT pg_advisory_lock(hashtextextended('mentorflow:projections:rebuild', 0))"
        )
        try:
            with pytest.raises(RebuildInProgress):
                await rebuild_projections(store)
        finally:
            await connection.execute("SELECT pg_advisory_unlock_all()")


def test_an_unknown_projection_name_is_refused() -> None:
    with pytest.raises(UnknownProjection) as raised:
        select_projections(["mentorship_overveiw"])
    assert "mentorship_overview" in str(raised.value)
