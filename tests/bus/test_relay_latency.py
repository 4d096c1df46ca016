"""LISTEN/NOTIFY: an idle relay publishes a new event at once, not at its next poll."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg

from bus import BusConfig, RelayOptions
from eventstore import PostgresEventStore
from tests.bus.support import relay_running
from tests.support import assert_eventually, new_event, unique_stream

# Polling alone would take up to a minute: only a notification can be this quick.
NOTIFIED_ONLY = RelayOptions(poll_interval=60.0, retry_initial=0.05, retry_maximum=0.5)


async def test_an_appended_event_reaches_a_subscriber_without_waiting_for_a_poll(
    store: PostgresEventStore,
    database_url: str,
    bus_config: BusConfig,
    nats_client: Client,
    record_property: Callable[[str, object], None],
) -> None:
    arrived: dict[str, float] = {}

    async def on_message(message: Msg) -> None:
        arrived[json.loads(message.data)["event_id"]] = time.monotonic()

    subscription = await nats_client.subscribe(f"{bus_config.subject_prefix}.>", cb=on_message)
    stream_id = unique_stream()
    first, second = new_event(), new_event()
    try:
        async with relay_running(database_url, bus_config, options=NOTIFIED_ONLY):
            await store.append(stream_id, 0, [first])
            await assert_eventually(_has(arrived, str(first.event_id)), timeout=30)

            # The relay is idle now, in the middle of a one-minute poll interval.
            appended_at = time.monotonic()
            await store.append(stream_id, 1, [second])
            await assert_eventually(_has(arrived, str(second.event_id)), timeout=10)
    finally:
        await subscription.unsubscribe()
    # Reported, not asserted: timing assertions make flaky tests.
    record_property("append_to_subscriber_ms", (arrived[str(second.event_id)] - appended_at) * 1e3)


def _has(arrived: dict[str, float], event_id: str) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return event_id in arrived

    return probe
