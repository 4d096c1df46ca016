"""Database errors as Temporal sees them: the event store's translation, made retry policy.

The event store says what a driver error means (`eventstore.errors.translate`); an activity
only turns that into Temporal's terms:

- `DatabaseUnavailable` (the server is away, overloaded or restarting; a lost race that wins
  when run again): a retryable `ApplicationError`, so Temporal retries with the activity's
  backoff until the database is back.
- `DataRejected` (PostgreSQL refused the data itself): a non-retryable `ApplicationError`
  of the same type name; retrying the same statement can never succeed, and would hold the
  workflow where it is for good.

The messages name error classes and the redacted address only, never values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from eventstore import DatabaseUnavailable, DataRejected
from eventstore.errors import translated


@contextmanager
def database_errors() -> Iterator[None]:
    """Raise the driver and store errors inside as Temporal `ApplicationError`s."""
    try:
        with translated():
            yield
    except DatabaseUnavailable as error:
        raise ApplicationError(str(error), type=type(error).__name__) from error
    except DataRejected as error:
        raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error
