"""The envelope of the contract: one JSON object per event, in the store and on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.base import DomainEvent


class NewEvent(BaseModel):
    """An event about to be appended: the envelope without what the store assigns.

    ``event_id`` is chosen by the writer, deterministically where the writer may be retried
    (a workflow derives it from its own id and the stream version), which makes appends
    idempotent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    event_type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    correlation_id: str = Field(min_length=1)
    causation_id: str | None = None
    data: dict[str, Any]

    @classmethod
    def from_domain(
        cls,
        event: DomainEvent,
        *,
        event_id: UUID,
        occurred_at: AwareDatetime,
        correlation_id: str,
        causation_id: str | None = None,
    ) -> NewEvent:
        """Wrap a typed domain event for appending."""
        return cls(
            event_id=event_id,
            event_type=event.event_type,
            schema_version=type(event).schema_version,
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            causation_id=causation_id,
            data=event.to_data(),
        )


class EventEnvelope(BaseModel):
    """A stored event as the contract defines it (store, bus and AsyncAPI share this shape)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(description="Unique id of the event; also the NATS Nats-Msg-Id")
    event_type: str = Field(description="PascalCase name of the event, e.g. ConversationHeld")
    schema_version: int = Field(ge=1, description="Version of the event's data schema")
    stream_id: str = Field(description="cohort-… or mentorship-…")
    stream_version: int = Field(ge=1, description="1-based position in the stream, no gaps")
    global_position: int = Field(ge=1, description="Position in the whole store, set by it")
    occurred_at: AwareDatetime = Field(description="When the fact happened (UTC)")
    recorded_at: AwareDatetime = Field(description="When the store recorded it (UTC)")
    correlation_id: str = Field(description="Id of the process the event belongs to")
    causation_id: str | None = Field(default=None, description="Id of what caused the event")
    data: dict[str, Any] = Field(description="The event's own fields")

    @property
    def stream_type(self) -> str:
        """``cohort`` or ``mentorship``: the stream id up to its first dash."""
        return self.stream_id.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """A stored event decoded into its typed, current-version domain event.

    ``schema_version`` is the version the event was stored with; ``event`` is always of the
    current version (upcast on the way in). A plain dataclass: it is built for every event a
    reader decodes, from fields the store already typed, so it validates nothing itself.
    """

    event_id: UUID
    event_type: str
    schema_version: int
    stream_id: str
    stream_version: int
    global_position: int
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str
    causation_id: str | None
    event: DomainEvent
