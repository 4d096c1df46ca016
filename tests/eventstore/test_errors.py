"""The one translation of driver and OS errors into the event store's two kinds."""

from __future__ import annotations

import asyncpg
import pytest

from eventstore import DatabaseUnavailable, EventsNotStorable, StreamVersionConflict
from eventstore.errors import DataRejected, is_transient, translate


def _postgres_error(kind: type[asyncpg.PostgresError]) -> asyncpg.PostgresError:
    return kind(f"{kind.__name__} quoting 'a private value'")


@pytest.mark.parametrize(
    "error",
    [
        OSError("connection refused"),
        ConnectionResetError(),
        TimeoutError(),
        asyncpg.InterfaceError("connection is closed"),
        # A backend terminated mid-statement (asyncpg#1069): the relay's list lacked it.
        asyncpg.InternalClientError("cannot switch to state 15"),
        _postgres_error(asyncpg.ConnectionDoesNotExistError),
        _postgres_error(asyncpg.CannotConnectNowError),
        _postgres_error(asyncpg.AdminShutdownError),
        _postgres_error(asyncpg.CrashShutdownError),
        _postgres_error(asyncpg.TooManyConnectionsError),
        _postgres_error(asyncpg.DeadlockDetectedError),
        _postgres_error(asyncpg.SerializationError),
        _postgres_error(asyncpg.InvalidCachedStatementError),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_unreachable_or_restarting_database_is_unavailable(error: Exception) -> None:
    translated = translate(error, "postgresql://db")

    assert isinstance(translated, DatabaseUnavailable)
    assert is_transient(error)
    assert "private" not in str(translated)


@pytest.mark.parametrize(
    "kind",
    [asyncpg.UntranslatableCharacterError, asyncpg.CheckViolationError, asyncpg.DataError],
)
def test_data_the_database_refuses_is_rejected_for_good(
    kind: type[asyncpg.PostgresError],
) -> None:
    translated = translate(_postgres_error(kind))

    assert isinstance(translated, DataRejected)
    assert not is_transient(_postgres_error(kind))
    assert translated.reason == kind.__name__
    assert "private" not in str(translated)


def test_other_errors_are_not_the_store_s_to_judge() -> None:
    assert translate(ValueError("a bug")) is None
    assert translate(_postgres_error(asyncpg.UndefinedTableError)) is None
    conflict = StreamVersionConflict("mentorship-x", 1, 2)
    assert translate(conflict) is conflict


def test_events_not_storable_is_a_data_rejection() -> None:
    error = EventsNotStorable("mentorship-x", "22P05", "UntranslatableCharacterError")

    assert isinstance(error, DataRejected)
    assert str(error) == (
        "the events for 'mentorship-x' cannot be stored: UntranslatableCharacterError (22P05)"
    )
    assert (error.stream_id, error.sqlstate, error.reason) == (
        "mentorship-x",
        "22P05",
        "UntranslatableCharacterError",
    )
