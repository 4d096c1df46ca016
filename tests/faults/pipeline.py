"""Relay and projector under test: their own stream, and the end-of-run check.

After a fault run the events stream must hold every stored event exactly once, no delivery
may have stalled a projection, and the read models the projector built through the
faults must equal a rebuild from the store, row for row.
"""

from __future__ import annotations

import functools
import operator
import uuid
from datetime import timedelta

import nats

from bus import BusConfig
from eventstore import PostgresEventStore
from projections import all_projections, rebuild_projections
from tests.bus.support import read_stream, stream_message_count
from tests.faults.services import ServiceProcess
from tests.faults.verification import audit_bus
from tests.projections.streams import stored_envelopes
from tests.projections.support import snapshot, wait_until_caught_up
from tests.support import assert_eventually


def isolated_bus(nats_url: str) -> BusConfig:
    """An events stream no other test uses."""
    token = uuid.uuid4().hex[:10]
    return BusConfig(
        nats_url=nats_url,
        stream_name=f"FAULTS_{token}",
        subject_prefix=f"f{token}.events",
        duplicate_window=timedelta(minutes=30),
        max_age=timedelta(hours=2),
    )


async def bus_and_read_models_match_the_store(
    store: PostgresEventStore,
    bus: BusConfig,
    services: list[ServiceProcess],
    timeout: float,
) -> tuple[int, int, int, list[str]]:
    """Wait until relay and projector caught up; compare the bus and a rebuild with the store.

    Stops ``services`` (relay and projector) before rebuilding. Returns the events checked,
    lost and duplicated on the bus, and the read models that differ from the rebuild.
    """
    projections = all_projections()
    envelopes = await stored_envelopes(store)
    # The workflows may still append (a cohort records its close after its relationships'):
    # the live read models are taken only once no event arrived while they caught up.
    while True:
        await assert_eventually(
            lambda: stream_message_count(bus.nats_url, bus.stream_name),
            functools.partial(operator.le, len(envelopes)),
            timeout=timeout,
            interval=0.5,
            message="the relay published every event",
        )
        await wait_until_caught_up(store.pool, projections, envelopes, timeout=timeout)
        live = await snapshot(store.pool, projections)
        latest = await stored_envelopes(store)
        if len(latest) == len(envelopes):
            break
        envelopes = latest
    for service in services:
        service.check_alive()
        service.stop()
    appended_late = len(await stored_envelopes(store)) - len(envelopes)
    assert not appended_late, (
        f"{appended_late} events were appended after the live read models were taken: "
        "wait for every workflow to finish before comparing them with a rebuild"
    )
    client = await nats.connect(bus.nats_url)
    try:
        contents = await read_stream(client, bus.stream_name, f"{bus.subject_prefix}.>")
    finally:
        await client.close()
    await rebuild_projections(store)
    rebuilt = await snapshot(store.pool, projections)
    differing = sorted(name for name in live if live[name] != rebuilt.get(name))
    stalled = await store.pool.fetchval(
        "SELECT count(*) FROM read_models.positions WHERE stalled_event_id IS NOT NULL"
    )
    if stalled:
        differing.append(f"{stalled} stalled projections")
    checked = audit_bus(envelopes, contents.event_ids)
    return len(envelopes), checked.lost, checked.duplicated, differing
