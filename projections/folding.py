"""Folding events into a projection's state, the one code path of live updates and rebuilds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from events import CATALOG, DomainEvent, EventCatalog, EventEnvelope, UnknownEventType
from eventstore import StoredEvent
from projections.base import Projection, StreamProgress
from projections.errors import StreamOutOfOrder

Decoded = tuple[DomainEvent, datetime] | None
"""A typed event with the time it happened, or None for a type this build does not know."""


def decode_envelope(envelope: EventEnvelope, catalog: EventCatalog = CATALOG) -> Decoded:
    """The typed event of an envelope; None when its type is unknown (newer producer).

    Raises:
        pydantic.ValidationError: The data does not fit its (known) type: a poison event.
    """
    try:
        event = catalog.decode_data(envelope.event_type, envelope.schema_version, envelope.data)
    except UnknownEventType:
        return None
    return event, envelope.occurred_at


def decode_stored(stored: StoredEvent, catalog: EventCatalog = CATALOG) -> Decoded:
    """Like `decode_envelope`, for an event read from the store's tail."""
    try:
        recorded = stored.decode(catalog)
    except UnknownEventType:
        return None
    return recorded.event, recorded.occurred_at


def apply_one(
    projection: Projection[Any],
    state: Any,
    progress: StreamProgress,
    *,
    stream_version: int,
    global_position: int,
    decode: Callable[[], Decoded],
) -> None:
    """Apply the next event of a stream to ``state`` and advance ``progress``.

    An unknown event type advances the checkpoint as a skipped event: the fact exists, this
    build cannot read it, and holding the stream back would stall every later event. A
    rebuild after upgrading picks it up.

    Raises:
        StreamOutOfOrder: ``stream_version`` is not the next version (a bug in the caller).
    """
    if stream_version != progress.version + 1:
        raise StreamOutOfOrder(projection.name, progress.version, stream_version)
    decoded = decode()
    if decoded is None:
        progress.skipped += 1
    else:
        projection.apply(state, *decoded)
    progress.version = stream_version
    progress.last_position = global_position
