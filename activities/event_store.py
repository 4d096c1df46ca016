"""Appending domain events from workflows."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.errors import database_errors
from events import NewEvent
from eventstore import (
    DuplicateEventConflict,
    EventsNotStorable,
    EventStore,
    StreamVersionConflict,
)
from vault import PersonalDataVault
from vault.store import MissingSubject

_SUBJECTS_CACHED = 10_000


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

    def __init__(self, store: EventStore, vault: PersonalDataVault) -> None:
        self.store = store
        self._vault = vault
        self._subjects: dict[str, dict[str, str]] = {}

    @activity.defn
    async def append_events(self, request: AppendEventsInput) -> AppendEventsResult:
        """Append events; a retry of an append that already committed is a no-op.

        Personal values are sealed for their person first (see `vault`), so the store and
        everything downstream hold only ciphertext; sealing is deterministic, so a retry
        appends the very same bytes. Version and id conflicts (another writer owns the stream)
        and data PostgreSQL refuses are non-retryable: retrying cannot resolve them. An
        unreachable database is retried (`activities.errors.database_errors`).
        """
        with database_errors():
            return await self._append(request)

    async def _append(self, request: AppendEventsInput) -> AppendEventsResult:
        try:
            events = await self._vault.seal_events(
                request.events, await self._stream_subjects(request), stream_id=request.stream_id
            )
        except MissingSubject as error:
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        try:
            result = await self.store.append(request.stream_id, request.expected_version, events)
        except StreamVersionConflict as error:
            raise ApplicationError(
                str(error),
                {"stream_id": error.stream_id, "expected": error.expected, "actual": error.actual},
                type=type(error).__name__,
                non_retryable=True,
            ) from error
        except (DuplicateEventConflict, EventsNotStorable) as error:
            # EventsNotStorable: PostgreSQL refuses the data itself (a NUL that slipped past
            # validation); retrying forever would hold the workflow's append lock for good.
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

    async def _stream_subjects(self, request: AppendEventsInput) -> dict[str, str]:
        """Mentee and mentor of a mentorship stream, from its ``MentorshipMatched`` event."""
        stream_id = request.stream_id
        if not stream_id.startswith("mentorship-"):
            return {}
        subjects = self._subjects.get(stream_id)
        if subjects is not None:
            return subjects
        data = next(
            (event.data for event in request.events if event.event_type == "MentorshipMatched"),
            None,
        )
        if data is None:
            first = await self.store.read_stream(stream_id, 1, limit=1)
            if not first or first[0].event_type != "MentorshipMatched":
                return {}
            data = first[0].data
        subjects = {"mentee": data["mentee_id"], "mentor": data["mentor_id"]}
        if len(self._subjects) >= _SUBJECTS_CACHED:
            self._subjects.clear()
        self._subjects[stream_id] = subjects
        return subjects
