"""An unrelated transaction open for the whole run stalls no reader and hides no event.

A "report" holds a transaction with a transaction id (it wrote to a table of its own) open
while writers append and the real relay publishes; a live subscriber on the bus notes when
each event arrives. Every event must reach the bus, once, while the report is still open:
only event-writing transactions hold the tailing horizon back (see eventstore.postgres).
The lag from commit to the bus is printed; it is bounded by the relay's own pace, not by the
report's duration.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import asyncpg
import nats
from nats.aio.msg import Msg

from bus import RelayOptions
from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from tests.bus.support import isolated_bus_config, relay_running
from tests.faults.figures import Report
from tests.faults.scale import FaultScale
from tests.support import assert_eventually, create_database, new_event

WRITERS = 4
BATCH = 5


async def _write(
    store: PostgresEventStore, writer: int, events: int, committed: dict[str, float]
) -> None:
    stream = f"mentorship-report-{writer}-{uuid.uuid4().hex[:6]}"
    for version in range(0, events, BATCH):
        batch = [new_event(data={"n": version + n}) for n in range(min(BATCH, events - version))]
        await store.append(stream, version, batch)
        now = time.monotonic()
        committed.update((str(event.event_id), now) for event in batch)
        await asyncio.sleep(0.002)  # steady traffic rather than one block


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


async def test_a_long_open_unrelated_transaction_delays_and_skips_nothing_on_the_bus(
    stack: StackAddresses, postgres_server_url: str, scale: FaultScale, report: Report
) -> None:
    figures = report("a transaction open throughout (with a transaction id, no events)")
    database_url = await create_database(postgres_server_url, "faults_report")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    config = isolated_bus_config(stack.nats_url)
    arrived: list[tuple[str, float]] = []

    async def on_message(message: Msg) -> None:
        body: dict[str, Any] = json.loads(message.data)
        arrived.append((body["event_id"], time.monotonic()))

    report_connection = await asyncpg.connect(database_url)
    report_transaction = report_connection.transaction()
    client = await nats.connect(stack.nats_url)
    try:
        await report_transaction.start()
        await report_connection.execute("CREATE TABLE report (n integer)")
        await report_connection.execute("INSERT INTO report SELECT generate_series(1, 1000)")
        committed: dict[str, float] = {}
        options = RelayOptions(page_size=500, poll_interval=0.2)
        async with relay_running(database_url, config, options=options):
            jetstream = client.jetstream()
            await assert_eventually(
                lambda: _stream_exists(jetstream, config.stream_name), timeout=30
            )
            subscription = await jetstream.subscribe(
                f"{config.subject_prefix}.>", cb=on_message, ordered_consumer=True
            )
            per_writer = scale.long_transaction_events // WRITERS
            await asyncio.gather(
                *(_write(store, writer, per_writer, committed) for writer in range(WRITERS))
            )
            await assert_eventually(
                lambda: _count(arrived),
                lambda count: count >= len(committed),
                timeout=120,
                interval=0.1,
                message="every event reached the bus while the report is open",
            )
            still_open = report_connection.is_in_transaction()
            await subscription.unsubscribe()
    finally:
        await report_transaction.rollback()
        await report_connection.close()
        await client.close()
        await store.close()

    seen = Counter(event_id for event_id, _ in arrived)
    lost = len(committed.keys() - seen.keys())
    duplicated = sum(count - 1 for count in seen.values()) + len(seen.keys() - committed.keys())
    lags = [at - committed[event_id] for event_id, at in arrived if event_id in committed]
    figures.events_checked = len(committed)
    figures.lost, figures.duplicated = lost, duplicated
    figures.notes = {
        "lag p50 ms": round(statistics.median(lags) * 1000),
        "lag p99 ms": round(_percentile(lags, 0.99) * 1000),
        "lag max ms": round(max(lags) * 1000),
    }
    assert still_open, "the unrelated transaction stayed open until every event arrived"
    assert (lost, duplicated) == (0, 0)


async def _stream_exists(jetstream: Any, name: str) -> bool:
    try:
        await jetstream.stream_info(name)
    except nats.js.errors.NotFoundError:
        return False
    return True


async def _count(arrived: list[tuple[str, float]]) -> int:
    return len(arrived)
