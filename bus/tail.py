"""Following the events stream from the outside: what ``mentorflow events tail`` shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats.errors
from faststream.nats import NatsBroker
from nats.js.api import DeliverPolicy

from bus.config import BusConfig
from bus.subjects import MESSAGE_ID_HEADER
from events import EventEnvelope


@dataclass(frozen=True)
class TailedEvent:
    """One message of the events stream."""

    subject: str
    sequence: int
    message_id: str | None
    body: bytes

    def envelope(self) -> EventEnvelope:
        """The envelope, validated against the contract."""
        return EventEnvelope.model_validate_json(self.body)


async def tail_events(
    broker: NatsBroker,
    config: BusConfig,
    subject: str,
    stop: asyncio.Event,
    *,
    from_start: bool = False,
) -> AsyncIterator[TailedEvent]:
    """Yield the stream's events on ``subject`` until ``stop`` is set.

    An ordered consumer: ephemeral, flow-controlled, gap-free, and gone when the caller is.

    Args:
        broker: A connected broker.
        config: Which stream.
        subject: A filter within the stream's subjects (wildcards allowed).
        stop: Ends the iteration.
        from_start: Begin with the oldest message the stream holds, not the next new one.

    Raises:
        nats.js.errors.NotFoundError: No such stream.
    """
    jetstream = broker.connection.jetstream()
    subscription = await jetstream.subscribe(
        subject,
        stream=config.stream_name,
        ordered_consumer=True,
        deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.NEW,
    )
    try:
        while not stop.is_set():
            try:
                message = await subscription.next_msg(timeout=0.25)
            except nats.errors.TimeoutError:
                continue
            yield TailedEvent(
                subject=message.subject,
                sequence=message.metadata.sequence.stream,
                message_id=(message.headers or {}).get(MESSAGE_ID_HEADER),
                body=message.data,
            )
    finally:
        await subscription.unsubscribe()
