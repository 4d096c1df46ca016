"""Folding events into a projection's state: the one code path of live updates and rebuilds.

Both read `StoredEvent`s from the store (the runner from its position, a rebuild from the
start) and decode them with `decode_stored`; events an operator skipped
(`mentorflow projections skip`) decode to nothing, exactly like events of unknown types.

Decoding (pydantic validation, upcasting) is the dearest step per event, so an event is
decoded once for all projections: a rebuild hands each event's decoding to every fold, and
the runners of one projector share a `DecodeCache` (they read the same events, moments
apart). Typed events are frozen, so sharing one among projections is safe.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
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
        # Straight to the typed event: a `RecordedEvent` with all the metadata (what
        # `StoredEvent.decode` builds) cost a sixth of a rebuild's decoding.
        event = catalog.decode_json(stored.event_type, stored.schema_version, stored.data_json)
    except UnknownEventType:
        return None
    return event, stored.occurred_at


class DecodeCache:
    """Decoded events by id, for the runners of one process (each reads the same events).

    Holds the ``size`` most recently decoded events. Events of unknown types are cached as
    None like the others; events that fail to decode are not cached (each attempt raises).
    Skips are per projection and are applied by the caller, never cached.
    """

    def __init__(self, catalog: EventCatalog = CATALOG, size: int = 20_000) -> None:
        self.catalog = catalog
        self.size = size
        self._decoded: OrderedDict[UUID, Decoded] = OrderedDict()

    def decode(self, stored: StoredEvent, skipped: Collection[UUID] = ()) -> Decoded:
        """As `decode_stored`, decoding each event at most once while it stays cached."""
        event_id = stored.event_id
        if skipped and event_id in skipped:
            return None
        try:
            return self._decoded[event_id]
        except KeyError:
            pass
        decoded = decode_stored(stored, self.catalog)
        self._decoded[event_id] = decoded
        if len(self._decoded) > self.size:
            self._decoded.popitem(last=False)
        return decoded


def apply_one(
    projection: Projection[Any],
    state: Any,
    progress: StreamProgress,
    stream_version: int,
    global_position: int,
    decoded: Decoded,
) -> None:
    """Apply the next event of a stream, ``decoded``, to ``state`` and advance ``progress``.

    An unknown event type advances the checkpoint as a skipped event: the fact exists, this
    build cannot read it, and holding the stream back would stall every later event. A
    rebuild after upgrading picks it up. An event an operator skipped counts the same way.

    Raises:
        StreamOutOfOrder: ``stream_version`` is not the next version (a bug in the caller).
    """
    if stream_version != progress.version + 1:
        raise StreamOutOfOrder(projection.name, progress.version, stream_version)
    if decoded is None:
        progress.skipped += 1
    else:
        projection.apply(state, *decoded)
    progress.version = stream_version
    progress.last_position = global_position
