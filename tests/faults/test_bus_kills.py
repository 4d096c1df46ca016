"""Relay and projector killed (-9) again and again during a burst of 10,000 events.

Both run as processes of their own, the relay on the session's NATS (a stream of this
test's own), the projector tailing the store. While four writers append a cohort's worth of
realistic streams at an even pace, each process is SIGKILLed at random moments and started
again. Afterwards the events stream must hold every stored event exactly once (JetStream's
duplicate window absorbs what a restarted relay publishes again), no projection may have
stalled, and the read models the killed projector built must equal a rebuild from the store,
row for row.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from projections import migrate_read_models
from tests.faults.burst import paced_burst, streams_of
from tests.faults.figures import Report
from tests.faults.pipeline import bus_and_read_models_match_the_store, isolated_bus
from tests.faults.scale import FaultScale, fault_seed
from tests.faults.services import kill_repeatedly, projector_process, relay_process
from tests.support import create_database

pytestmark = pytest.mark.slow


async def test_relay_and_projector_killed_during_a_burst_lose_and_duplicate_nothing(
    stack: StackAddresses,
    postgres_server_url: str,
    tmp_path: Path,
    scale: FaultScale,
    report: Report,
) -> None:
    figures = report(f"{scale.relay_kills} relay + {scale.projector_kills} projector kill -9")
    database_url = await create_database(postgres_server_url, "faults_bus")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    bus = isolated_bus(stack.nats_url)
    relay = relay_process(database_url, bus, tmp_path)
    projector = projector_process(database_url, tmp_path)
    seed = fault_seed()
    rng = random.Random(seed)
    streams = streams_of(scale.burst_events, seed)
    try:
        relay.start()
        projector.start()
        appended, *_ = await asyncio.gather(
            paced_burst(store, streams, scale.burst_seconds),
            kill_repeatedly(relay, scale.relay_kills, scale.burst_seconds, rng),
            kill_repeatedly(projector, scale.projector_kills, scale.burst_seconds, rng),
        )
        events, lost, duplicated, differing = await bus_and_read_models_match_the_store(
            store, bus, [relay, projector], timeout=300
        )
    finally:
        relay.stop()
        projector.stop()
        await store.close()

    figures.events_checked = events
    figures.lost, figures.duplicated = lost, duplicated
    figures.notes = {
        "seed": seed,
        "events appended": appended,
        "relay restarts": relay.starts - 1,
        "projector restarts": projector.starts - 1,
        "read models equal to a rebuild": not differing,
    }
    assert appended == events == scale.burst_events
    assert (lost, duplicated) == (0, 0)
    assert not differing, f"live and rebuilt read models differ in {differing}"
