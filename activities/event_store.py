"""Appending domain events from workflows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from events import NewEvent
from eventstore import DuplicateEventConflict, EventStore, StreamVersionConflict


class AppendEventsInput(BaseModel):
    """Events a workflow records, with the stream version it derived them from."""

    model_config = ConfigDict(frozen=True)

    stream_id: str
    expected_version: int = Field(ge=0)
    events: list[NewEvent] = Field(min_length=1)


class AppendEventsResult(BaseModel):
    """Where the events landed."""

    model_config = ConfigDict(frozen=True)

    first_version: int
    last_version: int
    global_positions: list[int]
    duplicate: bool


class EventStoreActivities:
    """Activities over an event store, built once per worker with the store injected."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn
    async def append_events(self, request: AppendEventsInput) -> AppendEventsResult:
        """Append events; a retry of an append that already committed is a no-op.

        Version and id conflicts are non-retryable: retrying cannot resolve them, and they
        mean another writer owns the stream. An unreachable database is retried.
        """
        try:
            result = await self._store.append(
                request.stream_id, request.expected_version, request.events
            )
        except StreamVersionConflict as error:
            raise ApplicationError(
                str(error),
                {"stream_id": error.stream_id, "expected": error.expected, "actual": error.actual},
                type=type(error).__name__,
                non_retryable=True,
            ) from error
        except DuplicateEventConflict as error:
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        activity.logger.info(
            "events appended",
            extra={
                "stream_id": request.stream_id,
                "event_types": [event.event_type for event in request.events],
                "duplicate": result.duplicate,
            },
        )
        return AppendEventsResult(
            first_version=result.first_version,
            last_version=result.last_version,
            global_positions=result.global_positions,
            duplicate=result.duplicate,
        )
