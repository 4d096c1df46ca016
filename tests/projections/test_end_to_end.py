"""Store → projector → read models, with concurrent writers and an abrupt projector stop.

The projector is cancelled mid-stream and started again: the read models still end equal to
a rebuild from the store.
"""

from __future__ import annotations

import asyncio
import contextlib

from eventstore import PostgresEventStore
from projections import all_projections, rebuild_projections
from tests.projections.streams import append_interleaved, scenario, stored_envelopes
from tests.projections.support import running_projector, snapshot, wait_until_caught_up


async def _project(database_url: str, store: PostgresEventStore) -> None:
    async with running_projector(database_url, store):
        await asyncio.Event().wait()  # until cancelled


async def test_events_flow_from_the_store_into_the_read_models_across_a_restart(
    database_url: str, store: PostgresEventStore
) -> None:
    projections = all_projections()
    streams = scenario(12, seed=11)
    half = len(streams) // 2

    await append_interleaved(store, streams[:half])
    projector = asyncio.create_task(_project(database_url, store))
    rest = streams[half:]
    await asyncio.gather(  # concurrent appenders while the projector runs
        *(append_interleaved(store, rest[writer::3]) for writer in range(3))
    )
    projector.cancel()  # an abrupt stop mid-stream: its transaction rolls back
    with contextlib.suppress(asyncio.CancelledError):
        await projector
    async with running_projector(database_url, store):
        await wait_until_caught_up(store.pool, projections, await stored_envelopes(store))
        live = await snapshot(store.pool, projections)

    await rebuild_projections(store)
    rebuilt = await snapshot(store.pool, projections)
    differing = sorted(name for name in live if live[name] != rebuilt.get(name))
    assert not differing, f"live and rebuilt read models differ in {differing}"
    assert live["mentorship_overview"], "the overview has rows"
