"""The PostgreSQL event store: migrations, append, idempotency, safe tailing, errors."""

from eventstore.base import AppendResult, EventStore, Position, StoredEvent
from eventstore.errors import (
    DatabaseUnavailable,
    DuplicateEventConflict,
    EventsNotStorable,
    EventStoreError,
    MigrationChecksumMismatch,
    MigrationError,
    StreamVersionConflict,
)
from eventstore.postgres import PostgresEventStore, append_in_transaction

__all__ = [
    "AppendResult",
    "DatabaseUnavailable",
    "DuplicateEventConflict",
    "EventStore",
    "EventStoreError",
    "EventsNotStorable",
    "MigrationChecksumMismatch",
    "MigrationError",
    "Position",
    "PostgresEventStore",
    "StoredEvent",
    "StreamVersionConflict",
    "append_in_transaction",
]
