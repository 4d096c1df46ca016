"""Errors of the event store: one base, typed subclasses carrying their data.

Driver errors (asyncpg, OS) are translated into these at one choke point each, with
``raise … from error`` so the original stays in the traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import asyncpg

P = ParamSpec("P")
T = TypeVar("T")


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


class DataRejected(EventStoreError):
    """PostgreSQL refused the data itself: permanent, retrying the same statement cannot help.

    The reason names the error class only: the driver's message may quote the value.
    """

    def __init__(self, sqlstate: str, reason: str) -> None:
        super().__init__(f"PostgreSQL refused the data: {reason} ({sqlstate})")
        self.sqlstate = sqlstate
        self.reason = reason


class EventsNotStorable(DataRejected):
    """PostgreSQL refused the events' data itself (SQLSTATE class 22 or 23): retrying cannot help.

    For example a NUL character, which ``jsonb`` cannot hold. Version and id conflicts have
    their own errors; this is every other data or integrity error of an append.
    """

    def __init__(self, stream_id: str, sqlstate: str, reason: str) -> None:
        super().__init__(sqlstate, reason)
        self.args = (f"the events for {stream_id!r} cannot be stored: {reason} ({sqlstate})",)
        self.stream_id = stream_id


class DatabaseUnavailable(EventStoreError):
    """The database could not be reached, or is away for now: transient, wait and retry."""

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


# SQLSTATE classes of a server that is away or overloaded, or of a transaction that
# succeeds when run again: 08 connection exception, 53 insufficient resources, 57P operator
# intervention (admin shutdown, crash shutdown, cannot connect now), 40001 serialization
# failure, 40P01 deadlock, 0A000 a cached plan invalidated by a table swap (asyncpg's
# InvalidCachedStatementError, raised when a rebuild swaps read-model tables in).
_TRANSIENT_SQLSTATES = ("08", "53", "57P", "40001", "40P01", "0A000")
# The data itself: 22 data exception (e.g. a NUL in jsonb), 23 integrity constraint.
_REJECTED_SQLSTATES = ("22", "23")

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A backend terminated mid-statement, as asyncpg reports it (MagicStack/asyncpg#1069):
    # "cannot switch to state …" rather than a connection error.
    asyncpg.InternalClientError,
)


DRIVER_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
"""What the driver raises, for adapters that catch it to `translate` it (they name no asyncpg
exception themselves)."""


def translate(error: BaseException, address: str = "the database") -> EventStoreError | None:
    """The event store's kind of a driver or OS error; None when it is neither kind.

    The one place that knows which asyncpg and OS errors mean what. Adapters catch
    `EventStoreError` subclasses, never driver exceptions:

    - `DatabaseUnavailable`: the server or the network is away, overloaded or restarting,
      or the transaction lost a race it wins when run again. Wait and retry.
    - `DataRejected`: PostgreSQL refused the data (SQLSTATE class 22 or 23). Never retry.

    Our own errors are returned as they are. Raise the result ``from error``.

    Args:
        error: What the driver (or the OS below it) raised.
        address: Where the database is, for the message (redacted DSN).
    """
    if isinstance(error, EventStoreError):
        return error
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    if isinstance(error, _UNAVAILABLE) or (
        isinstance(error, asyncpg.PostgresError) and sqlstate.startswith(_TRANSIENT_SQLSTATES)
    ):
        return DatabaseUnavailable(
            address, type(error).__name__ + (f" ({sqlstate})" * bool(sqlstate))
        )
    if isinstance(error, asyncpg.PostgresError) and sqlstate.startswith(_REJECTED_SQLSTATES):
        return DataRejected(sqlstate, type(error).__name__)
    return None


def is_transient(error: BaseException) -> bool:
    """Whether `translate` makes ``error`` a `DatabaseUnavailable`: worth waiting out."""
    return isinstance(translate(error), DatabaseUnavailable)


# Undefined table (42P01) or schema (3F000): the statement names a relation that is not there.
_MISSING_RELATION_SQLSTATES = ("42P01", "3F000")


def is_missing_relation(error: BaseException) -> bool:
    """Whether PostgreSQL refused a statement because a table or schema does not exist.

    Neither kind of `translate`: in a deployed system it means a schema is not migrated yet
    (say, the read models before any projector started), which a caller may answer as
    "not available yet" without retrying on its own.
    """
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    return isinstance(error, asyncpg.PostgresError) and sqlstate in _MISSING_RELATION_SQLSTATES


_CAUGHT: tuple[type[BaseException], ...] = (*DRIVER_ERRORS, OSError, TimeoutError)


@contextmanager
def translated(address: str = "the database") -> Iterator[None]:
    """Raise the store's kind of a driver or OS error raised inside, ``from`` it.

    For adapters that run their own SQL on a pool (vault, checkpoints, read models): what
    `translate` knows becomes `DatabaseUnavailable` or `DataRejected`; anything else (a bug
    in a statement, a missing table) propagates as it is.

    Args:
        address: Where the database is, for the message (redacted DSN).
    """
    try:
        yield
    except _CAUGHT as error:
        kind = translate(error, address)
        if kind is None or kind is error:
            raise
        raise kind from error


def translating(operation: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate a coroutine function so that its driver errors are `translated`."""

    @functools.wraps(operation)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with translated():
            return await operation(*args, **kwargs)

    return run
