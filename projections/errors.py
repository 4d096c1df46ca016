"""Errors of the projections: one base class, typed subclasses carrying their data."""

from __future__ import annotations

from pydantic import ValidationError

from eventstore import EventStoreError


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


class EventNotFound(ProjectionError, LookupError):
    """A skip names an event the store does not hold, or one the projection does not read."""

    def __init__(self, projection: str, event_id: str) -> None:
        super().__init__(f"{projection}: no event {event_id} of its streams in the store")
        self.projection = projection
        self.event_id = event_id


class EventAlreadyApplied(ProjectionError):
    """A skip names an event the projection has applied already: too late to skip it."""

    def __init__(self, projection: str, event_id: str) -> None:
        super().__init__(f"{projection}: event {event_id} is applied already")
        self.projection = projection
        self.event_id = event_id


class RebuildInProgress(ProjectionError):
    """Another rebuild holds the rebuild lock."""

    def __init__(self) -> None:
        super().__init__("another projections rebuild is running")


_MAX_ERROR_LENGTH = 500


def describe_error(error: BaseException) -> str:
    """A one-line description of why an event failed, for the stall record and the logs.

    Never the offending input: it may be personal text. Validation errors list locations
    and reasons; our own errors carry ids only; of anything else, only its type is told.
    """
    if isinstance(error, ValidationError):
        text = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc']) or 'body'}: {detail['msg']}"
            for detail in error.errors(include_input=False, include_url=False)
        )
        text = f"{type(error).__name__}: {text}"
    elif isinstance(error, ProjectionError | EventStoreError):
        text = f"{type(error).__name__}: {error}"
    else:
        text = type(error).__name__
    return text[:_MAX_ERROR_LENGTH]
