"""Folding events into a projection's state: the one code path of live updates and rebuilds.

Both read `StoredEvent`s from the store (the runner from its position, a rebuild from the
start) and decode them with `decode_stored`; events an operator skipped
(`mentorflow projections skip`) decode to nothing, exactly like events of unknown types.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from events import CATALOG, DomainEvent, EventCatalog, UnknownEventType
from eventstore import StoredEvent
from projections.base import Projection, StreamProgress
from projections.errors import StreamOutOfOrder

Decoded = tuple[DomainEvent, datetime] | None
"""A typed event with the time it happened, or None for an event to skip."""


def decode_stored(
    stored: StoredEvent, catalog: EventCatalog = CATALOG, skipped: Collection[UUID] = ()
) -> Decoded:
    """The typed event; None when its type is unknown (newer producer) or it was skipped.

    Raises:
        pydantic.ValidationError: The data does not fit its (known) type: a poison event.
    """
    if skipped and stored.event_id in skipped:
        return None
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
    rebuild after upgrading picks it up. An event an operator skipped counts the same way.

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
