"""The relay as a service: wiring of store, checkpoint, notifications, broker and stream.

`run_relay` is what ``mentorflow relay`` runs, and what tests run in-process as a task.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from faststream.nats import NatsBroker

from bus.broker import close_broker, create_broker
from bus.checkpoints import RelayCheckpoints, migrate_bus_schema
from bus.config import BusConfig
from bus.notifications import AppendNotifications
from bus.publishing import EventPublisher
from bus.relay import EventRelay, RelayOptions, RelayStats
from bus.stream import ensure_stream
from eventstore import DatabaseSettings, Position, PostgresEventStore, create_pool

log = structlog.get_logger(__name__)


async def run_relay(
    database: DatabaseSettings | str,
    config: BusConfig,
    stop: asyncio.Event,
    *,
    relay_name: str = "default",
    start_from: Position | None = None,
    options: RelayOptions | None = None,
    stats: RelayStats | None = None,
) -> None:
    """Run a relay until ``stop`` is set (or the task is cancelled).

    Waits for NATS when it is not reachable yet (the broker retries forever), creates or
    updates the events stream, then relays from the checkpoint.

    Args:
        database: The event store's database (`Settings.database`); a URL alone gets a
            pool of two connections, all the relay needs.
        config: NATS and stream settings.
        stop: Set it to stop gracefully.
        relay_name: The checkpoint to use.
        start_from: Move the checkpoint here first, e.g. `Position.START` to re-publish
            everything (JetStream drops what it still holds within the duplicate window).
        options: Page size, polling and retry timing.
        stats: Counters the relay keeps up to date (published, duplicates, retries).

    Raises:
        DatabaseUnavailable: The database cannot be reached at start-up.
        UnpublishableEvent: An event can never be put on a subject.
    """
    if isinstance(database, str):
        database = DatabaseSettings(database, min_size=1, max_size=2)
    pool = await create_pool(database)
    try:
        store = await PostgresEventStore.open(pool)
        await migrate_bus_schema(pool)
        checkpoints = RelayCheckpoints(pool, relay_name)
        if start_from is not None:
            await checkpoints.save(start_from)
            log.info("relay_checkpoint_reset", relay=relay_name, position=str(start_from))
        broker = create_broker(config, name=f"mentorflow-relay-{relay_name}")
        publisher = EventPublisher(broker, config)
        notifications = AppendNotifications(database.url)
        try:
            await notifications.start()
            if not await _connect(broker, stop):
                return
            relay = EventRelay(
                store,
                publisher,
                checkpoints,
                wake_ups=notifications,
                prepare=lambda: ensure_stream(broker, config),
                options=options,
                stats=stats,
            )
            await relay.run(stop)
        finally:
            await notifications.close()
            await close_broker(broker)
            await store.close()
    finally:
        await pool.close()


async def _connect(broker: NatsBroker, stop: asyncio.Event) -> bool:
    """Connect, waiting for NATS as long as it takes; False when stopped first."""
    connecting = asyncio.ensure_future(broker.connect())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connecting, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
    if connecting.cancelled():
        return False
    connecting.result()
    log.info("relay_connected_to_nats")
    return True
