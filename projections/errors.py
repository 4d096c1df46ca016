"""Errors of the projections: one base class, typed subclasses carrying their data."""

from __future__ import annotations

import asyncpg

from eventstore import DatabaseUnavailable


class ProjectionError(Exception):
    """Base of every projections error."""


class UnknownProjection(ProjectionError, LookupError):
    """A projection name that does not exist."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown projection {name!r}; known: {', '.join(known)}")
        self.name = name
        self.known = known


class StreamOutOfOrder(ProjectionError):
    """An event was about to be applied out of stream order (a bug, never a broker effect)."""

    def __init__(self, projection: str, applied: int, offered: int) -> None:
        super().__init__(
            f"{projection}: version {offered} offered after version {applied}; "
            "events must be applied in stream order"
        )
        self.projection = projection
        self.applied = applied
        self.offered = offered


class EventNotInStore(ProjectionError):
    """A message names an event the store does not hold as such (a forged or foreign message).

    Raised when filling a gap finds fewer events than the message's version implies, or a
    different event at the message's version.
    """

    def __init__(self, stream_id: str, stream_version: int, event_id: str) -> None:
        super().__init__(
            f"event {event_id} at {stream_id}@{stream_version} is not in the event store"
        )
        self.stream_id = stream_id
        self.stream_version = stream_version
        self.event_id = event_id


class RebuildInProgress(ProjectionError):
    """Another rebuild holds the rebuild lock."""

    def __init__(self) -> None:
        super().__init__("another projections rebuild is running")


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.InvalidCachedStatementError,
    asyncpg.InternalClientError,
)
"""Failures of the infrastructure, not of the message: retried, never dead-lettered.

A database outage must not park every event that arrives meanwhile; a deadlock or a plan
invalidated by a rebuild's table swap succeeds when the transaction is run again. asyncpg
reports a backend terminated mid-statement as `InternalClientError` ("cannot switch to state
…", MagicStack/asyncpg#1069) rather than as a connection error, so it is listed too.
"""
