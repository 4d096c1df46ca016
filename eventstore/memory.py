"""An in-memory event store: the PostgreSQL store's contract without a database.

For fast tests and local experiments. It keeps every guarantee of the contract
(`tests/eventstore/test_contract.py` runs against both): expected versions, idempotent
re-appends, id conflicts, all-or-nothing appends and a total tailing order. Nothing
survives the process.

Safe tailing is trivial here: an append never awaits between checking the expected version
and storing its events, so on one event loop appends are atomic and commit in the order
their positions are handed out. Each append counts as one transaction, so positions are
``(append number, global position)``, both increasing, and ``read_all`` never sees an
event appear behind a position it already passed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from events import EventEnvelope, NewEvent
from eventstore.base import AppendResult, Position, StoredEvent
from eventstore.errors import DuplicateEventConflict, EventsNotStorable, StreamVersionConflict
from eventstore.tracing import current_trace_context


class InMemoryEventStore:
    """Event store in a process's memory; see `eventstore.base.EventStore`."""

    def __init__(self) -> None:
        self._events: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._by_id: dict[UUID, StoredEvent] = {}
        self._appends = 0

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """See `eventstore.base.EventStore.append`."""
        if not events:
            raise ValueError("an append needs at least one event")
        if expected_version < 0:
            raise ValueError("expected_version must be >= 0")
        stream = self._streams.get(stream_id, [])
        existing = [self._by_id[e.event_id] for e in events if e.event_id in self._by_id]
        if existing:
            return self._resolve_rejected_append(stream_id, expected_version, events, existing)
        if len(stream) != expected_version or len({e.event_id for e in events}) < len(events):
            # An id twice in one append breaks PostgreSQL's unique index the same way.
            raise StreamVersionConflict(stream_id, expected_version, len(stream))
        # Serialized before anything is stored, so a refused event leaves nothing behind.
        data = [_stored_json(stream_id, event) for event in events]
        self._appends += 1
        recorded_at = datetime.now(UTC)
        stored: list[StoredEvent] = []
        for offset, (event, data_json) in enumerate(zip(events, data, strict=True), start=1):
            global_position = len(self._events) + 1
            row = _row(event, stream_id, expected_version + offset, global_position)
            row.update(recorded_at=recorded_at, data=data_json)
            stored_event = StoredEvent(row, Position(self._appends, global_position))
            self._events.append(stored_event)
            self._by_id[event.event_id] = stored_event
            stored.append(stored_event)
        self._streams[stream_id] = stream + stored
        return AppendResult(
            stream_id=stream_id,
            first_version=expected_version + 1,
            last_version=expected_version + len(events),
            global_positions=[event.position.global_position for event in stored],
        )

    def _resolve_rejected_append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        existing: list[StoredEvent],
    ) -> AppendResult:
        # The same decision as `PostgresEventStore._resolve_rejected_append`.
        same_append = len(existing) == len(events) and all(
            stored.stream_id == stream_id and stored.stream_version == expected_version + offset
            for offset, stored in enumerate(existing, start=1)
        )
        if same_append:
            return AppendResult(
                stream_id=stream_id,
                first_version=expected_version + 1,
                last_version=expected_version + len(events),
                global_positions=[stored.position.global_position for stored in existing],
                duplicate=True,
            )
        if any(stored.stream_id != stream_id for stored in existing):
            raise DuplicateEventConflict(
                stream_id, sorted(str(stored.event_id) for stored in existing)
            )
        raise StreamVersionConflict(stream_id, expected_version, len(self._streams[stream_id]))

    async def stream_version(self, stream_id: str) -> int:
        """See `eventstore.base.EventStore.stream_version`."""
        return len(self._streams.get(stream_id, []))

    async def read_stream(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[EventEnvelope]:
        """See `eventstore.base.EventStore.read_stream`."""
        stream = self._streams.get(stream_id, [])
        start = max(from_version, 1) - 1
        end = None if limit is None else start + limit
        return [stored.envelope for stored in stream[start:end]]

    async def read_all(
        self, after: Position = Position.START, limit: int = 1000
    ) -> list[StoredEvent]:
        """See `eventstore.base.EventStore.read_all`: every event after ``after``, in order."""
        # Positions increase with the list index: find the first one after ``after``.
        low, high = 0, len(self._events)
        while low < high:
            middle = (low + high) // 2
            if self._events[middle].position <= after:
                low = middle + 1
            else:
                high = middle
        return self._events[low : low + limit]


def _row(event: NewEvent, stream_id: str, version: int, global_position: int) -> dict[str, Any]:
    traceparent, tracestate = current_trace_context()
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "schema_version": event.schema_version,
        "stream_id": stream_id,
        "stream_version": version,
        "global_position": global_position,
        # PostgreSQL's timestamptz keeps microseconds and reads back in UTC.
        "occurred_at": event.occurred_at.astimezone(UTC),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "traceparent": traceparent,
        "tracestate": tracestate,
    }


def _stored_json(stream_id: str, event: NewEvent) -> str:
    """The event's data as JSON text, refused where PostgreSQL's ``jsonb`` would refuse it."""
    try:
        text = json.dumps(event.data, separators=(",", ":"), allow_nan=False)
    except ValueError as error:  # NaN or infinity, which jsonb has no spelling for
        raise EventsNotStorable(stream_id, "22P02", type(error).__name__) from error
    if "\\u0000" in text:
        raise EventsNotStorable(stream_id, "22P05", "UntranslatableCharacterError")
    return text
