"""Store → relay → JetStream → projector → read models, with the real relay and servers.

The relay is stopped abruptly mid-way and restarted, and the projector is restarted too:
the read models still end equal to a rebuild from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bus import BusConfig, run_relay
from eventstore import PostgresEventStore
from mentorflow.stack import StackAddresses
from projections import (
    Projection,
    ProjectorConfig,
    all_projections,
    migrate_read_models,
    rebuild_projections,
)
from tests.bus.support import FAST_RETRIES, relay_running
from tests.projections.streams import append_interleaved, scenario, stored_envelopes
from tests.projections.support import running_projector, snapshot, wait_until_caught_up
from tests.support import create_database


@pytest.fixture
async def database(postgres_server_url: str) -> AsyncIterator[tuple[str, PostgresEventStore]]:
    url = await create_database(postgres_server_url, "e2e")
    store = await PostgresEventStore.connect(url, max_size=20)
    await migrate_read_models(store.pool)
    yield url, store
    await store.close()


async def _project(
    nats_url: str,
    store: PostgresEventStore,
    config: ProjectorConfig,
    projections: list[Projection[Any]],
) -> None:
    async with running_projector(nats_url, store, config, projections):
        await asyncio.Event().wait()  # until cancelled


async def test_events_flow_from_the_store_through_the_real_relay_into_the_read_models(
    stack: StackAddresses, database: tuple[str, PostgresEventStore]
) -> None:
    database_url, store = database
    token = uuid.uuid4().hex[:10]
    bus = BusConfig(
        nats_url=stack.nats_url, stream_name=f"E2E_{token}", subject_prefix=f"e{token}.events"
    )
    config = ProjectorConfig(
        stream=bus.stream_name,
        subject_prefix=bus.subject_prefix,
        dead_letter_stream=f"E2E_DEAD_{token}",
        dead_letter_prefix=f"e{token}.deadletter.projections",
        durable_prefix=f"e2e-{token}",
        ack_wait=2.0,
        fetch_timeout=0.05,
    )
    projections = all_projections()
    streams = scenario(12, seed=11)
    half = len(streams) // 2

    relay = asyncio.create_task(run_relay(database_url, bus, asyncio.Event(), options=FAST_RETRIES))
    await append_interleaved(store, streams[:half])
    relay.cancel()  # an abrupt stop, its checkpoint wherever it was
    with contextlib.suppress(asyncio.CancelledError):
        await relay
    async with relay_running(database_url, bus, options=FAST_RETRIES):
        projector = asyncio.create_task(_project(stack.nats_url, store, config, projections))
        rest = streams[half:]
        await asyncio.gather(  # concurrent appenders while relay and projector run
            *(append_interleaved(store, rest[writer::3]) for writer in range(3))
        )
        projector.cancel()  # an abrupt stop mid-stream: unacked deliveries come back
        with contextlib.suppress(asyncio.CancelledError):
            await projector
        async with running_projector(stack.nats_url, store, config, projections):
            await wait_until_caught_up(store.pool, projections, await stored_envelopes(store))
            live = await snapshot(store.pool, projections)

    await rebuild_projections(store)
    rebuilt = await snapshot(store.pool, projections)
    differing = sorted(name for name in live if live[name] != rebuilt.get(name))
    assert not differing, f"live and rebuilt read models differ in {differing}"
    assert live["mentorship_overview"], "the overview has rows"
