"""In-memory stand-ins for the relay's collaborators, for fast tests of its logic."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from faststream.nats import PubAck

from events import EventEnvelope
from eventstore import Position, StoredEvent

RECORDED = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def stored_event(
    position: int,
    *,
    stream_id: str = "mentorship-c-1-p-2",
    event_type: str = "GoalAchieved",
    data: dict[str, Any] | None = None,
) -> StoredEvent:
    """A stored event as `read_all` returns it (the transaction id is the position)."""
    row = {
        "event_id": uuid.uuid4(),
        "event_type": event_type,
        "schema_version": 1,
        "stream_id": stream_id,
        "stream_version": position,
        "global_position": position,
        "occurred_at": RECORDED,
        "recorded_at": RECORDED,
        "correlation_id": "cohort-c-1",
        "causation_id": None,
        "data": json.dumps(data if data is not None else {"goal_id": f"g-{position}"}),
    }
    return StoredEvent(row, Position(position, position))


class MemoryStore:
    """`read_all` over a list, in order."""

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events

    async def read_all(
        self, after: Position = Position.START, limit: int = 1000
    ) -> list[StoredEvent]:
        """The next page after ``after``."""
        return [event for event in self.events if event.position > after][:limit]


class MemoryCheckpoints:
    """A checkpoint in memory, with every save recorded."""

    relay_name = "memory"

    def __init__(self, position: Position = Position.START) -> None:
        self.position = position
        self.saved: list[Position] = []

    async def load(self) -> Position:
        """The saved position."""
        return self.position

    async def save(self, position: Position) -> None:
        """Save ``position``."""
        self.position = position
        self.saved.append(position)


class RecordingPublisher:
    """Acks every envelope (a duplicate when seen before) unless ``fail`` says otherwise."""

    def __init__(self, fail: Callable[[EventEnvelope, int], BaseException | None] | None = None):
        self.fail = fail
        self.attempts = 0
        self.stored: list[str] = []

    async def publish(self, envelope: EventEnvelope) -> PubAck:
        """Store ``envelope`` once, like JetStream with its duplicate window."""
        self.attempts += 1
        if self.fail is not None and (error := self.fail(envelope, self.attempts)) is not None:
            raise error
        event_id = str(envelope.event_id)
        duplicate = event_id in self.stored
        if not duplicate:
            self.stored.append(event_id)
        return PubAck(stream="MEMORY", seq=len(self.stored), duplicate=duplicate)
