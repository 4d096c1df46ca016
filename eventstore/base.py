"""What every event store offers: the interface the contract tests run against."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from asyncpg import Record

from events import CATALOG, EventCatalog, EventEnvelope, NewEvent, RecordedEvent
from eventstore.tracing import TRACEPARENT, TRACESTATE, trace_carrier


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A tailing reader's place in the store: (writing transaction id, global position).

    Events are read in this order, which, unlike the global position alone, never places a
    later-committed event before an already-read one (see `PostgresEventStore.read_all`).
    """

    transaction_id: int
    global_position: int

    START: ClassVar[Position]

    def __str__(self) -> str:
        return f"{self.transaction_id}:{self.global_position}"

    @classmethod
    def parse(cls, text: str) -> Position:
        """Parse ``"transaction_id:global_position"``."""
        transaction_id, _, global_position = text.partition(":")
        return cls(int(transaction_id), int(global_position))


Position.START = Position(0, 0)


class StoredEvent:
    """An event as read back, with its data still JSON text until somebody needs it.

    Tailing readers mostly need ids, types and positions (the relay even forwards the JSON
    as it is), so rows are wrapped, not converted: `envelope` builds the contract's envelope
    and `decode` the typed event only when asked.
    """

    __slots__ = ("_row", "position")

    def __init__(self, row: Record | Mapping[str, Any], position: Position) -> None:
        self._row = row
        self.position = position

    def __repr__(self) -> str:
        return f"StoredEvent({self.stream_id}@{self.stream_version}, {self.event_type})"

    @property
    def event_id(self) -> UUID:
        """The event's id."""
        event_id: UUID = self._row["event_id"]
        return event_id

    @property
    def event_type(self) -> str:
        """The event's type."""
        return str(self._row["event_type"])

    @property
    def stream_id(self) -> str:
        """The stream it belongs to."""
        return str(self._row["stream_id"])

    @property
    def stream_version(self) -> int:
        """Its version in the stream."""
        return int(self._row["stream_version"])

    @property
    def schema_version(self) -> int:
        """The schema version the event was stored with."""
        return int(self._row["schema_version"])

    @property
    def occurred_at(self) -> datetime:
        """When the fact happened."""
        occurred_at: datetime = self._row["occurred_at"]
        return occurred_at

    @property
    def data_json(self) -> str:
        """The event's data as stored, JSON text."""
        return str(self._row["data"])

    @property
    def trace_context(self) -> dict[str, str]:
        """The W3C ``traceparent`` (and ``tracestate``) of the span that appended the event,
        as message headers; empty when the append was not traced."""
        # Rows read by an older version of the reads have no such columns.
        return trace_carrier(self._row.get(TRACEPARENT), self._row.get(TRACESTATE))

    def _metadata(self) -> dict[str, Any]:
        row = self._row
        # Rows come from typed columns of our own table: no need to re-validate each field.
        return {
            "event_id": row["event_id"],
            "event_type": row["event_type"],
            "schema_version": row["schema_version"],
            "stream_id": row["stream_id"],
            "stream_version": row["stream_version"],
            "global_position": row["global_position"],
            "occurred_at": row["occurred_at"],
            "recorded_at": row["recorded_at"],
            "correlation_id": row["correlation_id"],
            "causation_id": row["causation_id"],
        }

    @property
    def envelope(self) -> EventEnvelope:
        """The contract's envelope (data parsed to a dict)."""
        return EventEnvelope.model_construct(**self._metadata(), data=json.loads(self._row["data"]))

    def decode(self, catalog: EventCatalog = CATALOG) -> RecordedEvent:
        """The typed, current-version event with its metadata."""
        row = self._row
        event = catalog.decode_json(row["event_type"], row["schema_version"], row["data"])
        return RecordedEvent(**self._metadata(), event=event)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of an append."""

    stream_id: str
    first_version: int
    last_version: int
    global_positions: list[int] = field(default_factory=list)
    duplicate: bool = False
    """True when every event was already stored by an earlier, identical append."""


class EventStore(Protocol):
    """An append-only store of event streams."""

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` in one transaction.

        Args:
            stream_id: The stream, e.g. ``mentorship-eng-2027-q1-p-002``.
            expected_version: The version the stream must be at (0: it must not exist yet).
            events: At least one event; they get versions ``expected_version + 1 …``.

        Raises:
            StreamVersionConflict: The stream is at another version and these events are not
                already stored there (an identical retried append succeeds as a duplicate).
            DuplicateEventConflict: An event id is stored elsewhere.
        """
        ...

    async def read_stream(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[EventEnvelope]:
        """Events of one stream from ``from_version`` on, in version order."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The current version of a stream (0 when it does not exist)."""
        ...

    async def read_all(
        self, after: Position = Position.START, limit: int = 1000
    ) -> list[StoredEvent]:
        """The next page of all committed events after ``after``, in tailing order."""
        ...
