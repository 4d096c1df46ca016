"""What every event store offers: the interface the contract tests run against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from events import EventEnvelope, NewEvent


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


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back: its envelope and where a tailing reader stands after it."""

    envelope: EventEnvelope
    position: Position


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
