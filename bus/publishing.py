"""Publishing events to JetStream: one documented FastStream publisher per event type.

Each message is the contract's envelope as one JSON object, on
``{prefix}.{stream_type}.{event_type}``, with ``Nats-Msg-Id`` = ``event_id`` so that JetStream
stores a re-published event once (within the stream's duplicate window). Publishing names the
stream, which makes FastStream wait for JetStream's publish ack (and makes the server check
that the subject really lands in that stream).
"""

from __future__ import annotations

from faststream.nats import NatsBroker, PubAck
from faststream.nats.publisher.usecase import LogicPublisher

from bus.config import BusConfig
from bus.errors import UnpublishableEvent
from bus.messages import envelope_models
from bus.stream import events_jstream
from bus.subjects import MESSAGE_ID_HEADER, event_subject, is_token, stream_type_of
from events import CATALOG, EventCatalog, EventEnvelope

JSON_CONTENT_TYPE = "application/json"


def encode_envelope(envelope: EventEnvelope) -> bytes:
    """The message body: the envelope as one JSON object (UTF-8)."""
    return envelope.model_dump_json().encode()


def message_headers(envelope: EventEnvelope) -> dict[str, str]:
    """``Nats-Msg-Id`` for de-duplication, and the content type FastStream consumers decode by.

    FastStream sends raw bytes without a content type; consumers built on it would then hand
    handlers bytes instead of the parsed envelope.
    """
    return {MESSAGE_ID_HEADER: str(envelope.event_id), "content-type": JSON_CONTENT_TYPE}


def subject_for(envelope: EventEnvelope, prefix: str) -> str:
    """The subject of ``envelope``.

    Raises:
        UnpublishableEvent: The stream type or event type cannot be a subject token.
    """
    stream_type = stream_type_of(envelope.stream_id)
    for part, value in (("stream type", stream_type), ("event type", envelope.event_type)):
        if not is_token(value):
            raise UnpublishableEvent(
                str(envelope.event_id),
                envelope.stream_id,
                envelope.event_type,
                f"has a {part} that is not a NATS subject token: {value!r}",
            )
    return event_subject(stream_type, envelope.event_type, prefix)


class EventPublisher:
    """Publishes envelopes to the events stream and returns JetStream's ack.

    The publishers are registered on ``broker`` at construction (before it starts), one per
    event type of the catalog, each with its envelope model: they are what FastStream's
    AsyncAPI document describes. An event of a type the catalog does not know (written by a
    newer version, say) is still published, on its subject, through the broker itself.

    Args:
        broker: The broker to register the publishers on.
        config: Stream name, subject prefix and publish timeout.
        catalog: The event types to declare publishers for.
    """

    def __init__(
        self, broker: NatsBroker, config: BusConfig, catalog: EventCatalog = CATALOG
    ) -> None:
        self._broker = broker
        self._config = config
        stream = events_jstream(config)
        self._publishers: dict[str, LogicPublisher] = {}
        for event_type, model in envelope_models(catalog).items():
            stream_type = catalog.event_class(event_type).stream_type
            subject = event_subject(stream_type, event_type, config.subject_prefix)
            self._publishers[subject] = broker.publisher(
                subject,
                stream=stream,
                timeout=config.publish_timeout,
                title=f"{subject}:Publisher",
                description=f"The relay publishes every stored {event_type} event here.",
                schema=model,
            )

    @property
    def config(self) -> BusConfig:
        """Where this publisher publishes."""
        return self._config

    async def publish(self, envelope: EventEnvelope) -> PubAck:
        """Publish one event and wait for JetStream to store it.

        Returns:
            The ack; ``ack.duplicate`` is true when JetStream already had the event.

        Raises:
            UnpublishableEvent: The event cannot be put on a subject.
            nats.errors.Error: Timeout, no stream, connection trouble (retry: publishing the
                same event again is harmless).
        """
        subject = subject_for(envelope, self._config.subject_prefix)
        body = encode_envelope(envelope)
        headers = message_headers(envelope)
        publisher = self._publishers.get(subject)
        if publisher is not None:
            return await publisher.publish(
                body,
                headers=headers,
                correlation_id=envelope.correlation_id,
                stream=self._config.stream_name,
            )
        return await self._broker.publish(
            body,
            subject,
            headers=headers,
            correlation_id=envelope.correlation_id,
            stream=self._config.stream_name,
            timeout=self._config.publish_timeout,
        )
