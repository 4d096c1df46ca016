"""FastStream wiring of the projections: one durable pull consumer per projection.

Each projection has its own consumer (``{durable_prefix}-{name}``) on the events stream, so
one projection's backlog or poison message never holds another back, and its own dead-letter
subject. Consumers start at the beginning of the stream (``DeliverPolicy.ALL``); what the
stream no longer retains comes from a rebuild, not from the bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.nats import JStream, NatsBroker, NatsRouter, PullSub
from nats.js import api
from nats.js.errors import NotFoundError

from eventstore import PostgresEventStore
from projections.applier import ProjectionApplier
from projections.base import Projection
from projections.config import ProjectorConfig
from projections.consumer import ProjectionConsumer
from projections.jetstream import keep_partial_batches
from projections.metrics import RateMeter
from projections.registry import select_projections
from projections.schema import migrate_read_models

logger = structlog.get_logger(__name__)


async def _batch(message: StreamMessage[Any]) -> Any:
    """The "decoded body" handed to the handler: the batch message itself, JSON unparsed.

    The consumer parses each envelope itself, once, and needs the raw messages to settle
    them. Passing them as the body rather than through ``Context("message")`` matters: FastStream
    resolves context parameters in a worker thread, and its default decoder would parse every
    JSON body for nothing.
    """
    return message


def _handler(consumer: ProjectionConsumer) -> Callable[[Any], Awaitable[None]]:
    async def handle(batch: Any) -> None:
        await consumer.consume(batch.raw_message)

    handle.__name__ = f"project_{consumer.applier.name}"
    return handle


def projection_router(
    store: PostgresEventStore,
    config: ProjectorConfig | None = None,
    projections: Sequence[Projection[Any]] | None = None,
    *,
    meter: RateMeter | None = None,
) -> tuple[NatsRouter, list[ProjectionConsumer]]:
    """A router with a consumer and a dead-letter publisher per projection.

    Args:
        store: The event store (its pool holds the read models too; gaps are read from it).
        config: Stream, subjects and delivery bounds; the contract's names by default.
        projections: Which projections to run; all by default.
        meter: Counts applied events across projections (for logs and status).

    Returns:
        The router to include in a broker, and the consumers behind its subscribers.
    """
    config = config or ProjectorConfig()
    meter = meter or RateMeter()
    router = NatsRouter()
    # The relay owns the events stream (its retention and dedup window): never declare it.
    events = JStream(config.stream, declare=False)
    dead_letters = JStream(
        config.dead_letter_stream,
        subjects=[f"{config.dead_letter_prefix}.>"],
        duplicate_window=120.0,
    )
    consumers: list[ProjectionConsumer] = []
    for projection in projections or select_projections():
        applier = ProjectionApplier(projection, store, meter=meter)
        publisher = router.publisher(
            config.dead_letter_subject(projection.name),
            stream=dead_letters,
            title=f"{projection.name} dead letters",
            description=(
                "Events the projection could not apply after max_deliver deliveries: the "
                "original envelope, with the error in the Mentorflow-Error headers."
            ),
        )

        async def park(body: bytes, headers: dict[str, str], publisher: Any = publisher) -> Any:
            return await publisher.publish(body, headers=headers)

        consumer = ProjectionConsumer(applier, config, park)
        router.subscriber(
            config.subject(projection.stream_types),
            stream=events,
            durable=config.durable(projection.name),
            # A batch is applied in one transaction. FastStream fills it until batch_size or
            # fetch_timeout, so the timeout bounds the latency a quiet stream adds. (Per
            # message, FastStream's own pipeline costs more than applying the event.)
            pull_sub=PullSub(config.batch_size, config.fetch_timeout, batch=True),
            config=api.ConsumerConfig(
                deliver_policy=api.DeliverPolicy.ALL,
                ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=config.ack_wait,
                # One delivery beyond the handler's own limit: a crash while parking a
                # message gets one more chance to park it instead of dropping it.
                max_deliver=config.max_deliver + 1,
            ),
            ack_policy=AckPolicy.MANUAL,
            decoder=_batch,
            title=f"projection {projection.name}",
            description=projection.description,
        )(_handler(consumer))
        consumers.append(consumer)
    return router, consumers


async def wait_for_stream(broker: NatsBroker, name: str, timeout: float = 60.0) -> None:
    """Wait until the events stream exists (the relay creates it; it may start later).

    Raises:
        TimeoutError: The stream did not appear within ``timeout`` seconds.
    """
    jetstream = broker.config.connection_state.stream
    async with asyncio.timeout(timeout):
        while True:
            try:
                await jetstream.stream_info(name)
                return
            except NotFoundError:
                logger.info("projector.waiting_for_stream", stream=name)
                await asyncio.sleep(1.0)


async def run_projector(
    broker: NatsBroker,
    store: PostgresEventStore,
    stop: asyncio.Event,
    config: ProjectorConfig | None = None,
    projections: Sequence[Projection[Any]] | None = None,
    *,
    meter: RateMeter | None = None,
    stream_timeout: float = 60.0,
) -> None:
    """Run the projections on ``broker`` until ``stop`` is set (or the task is cancelled).

    Migrates the read models, waits for the events stream, starts the consumers, and stops
    the broker on the way out. An in-flight delivery interrupted by cancellation stays
    unacknowledged and comes back after ``ack_wait``; its transaction was rolled back.
    """
    config = config or ProjectorConfig()
    await migrate_read_models(store.pool)
    router, consumers = projection_router(store, config, projections, meter=meter)
    broker.include_router(router)
    await broker.connect()
    keep_partial_batches(broker.config.connection_state.stream)
    try:
        await wait_for_stream(broker, config.stream, stream_timeout)
        await broker.start()
        names = [consumer.applier.name for consumer in consumers]
        logger.info("projector.started", projections=names)
        await stop.wait()
    finally:
        await broker.stop()
