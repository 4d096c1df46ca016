"""Errors of the event store: one base, typed subclasses carrying their data.

Driver errors (asyncpg, OS) are translated into these at one choke point each, with
``raise … from error`` so the original stays in the traceback.
"""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every event-store error."""


class StreamVersionConflict(EventStoreError):
    """An append expected a stream version that is no longer (or not yet) the current one."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventConflict(EventStoreError):
    """An event id is already stored, but not as part of the same append."""

    def __init__(self, stream_id: str, event_ids: list[str]) -> None:
        super().__init__(
            f"events {', '.join(event_ids)} already exist elsewhere than as the "
            f"requested append to {stream_id!r}"
        )
        self.stream_id = stream_id
        self.event_ids = event_ids


class EventsNotStorable(EventStoreError):
    """PostgreSQL refused the events' data itself (SQLSTATE class 22 or 23): retrying cannot help.

    For example a NUL character, which ``jsonb`` cannot hold. Version and id conflicts have
    their own errors; this is every other data or integrity error of an append.
    """

    def __init__(self, stream_id: str, sqlstate: str, reason: str) -> None:
        super().__init__(f"the events for {stream_id!r} cannot be stored: {reason} ({sqlstate})")
        self.stream_id = stream_id
        self.sqlstate = sqlstate
        self.reason = reason


class DatabaseUnavailable(EventStoreError):
    """The database could not be reached."""

    def __init__(self, address: str, detail: str) -> None:
        super().__init__(f"PostgreSQL at {address} is unreachable: {detail}")
        self.address = address
        self.detail = detail


class MigrationError(EventStoreError):
    """The schema could not be brought up to date."""


class MigrationChecksumMismatch(MigrationError):
    """An applied migration's file was edited afterwards."""

    def __init__(self, schema: str, version: int, name: str) -> None:
        super().__init__(
            f"migration {version} ({name}) of schema {schema!r} was changed after it was "
            "applied; add a new migration instead of editing an applied one"
        )
        self.schema = schema
        self.version = version
        self.name = name
