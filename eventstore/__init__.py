"""The PostgreSQL event store: migrations, append, idempotency, safe tailing, errors."""

from eventstore.base import AppendResult, EventStore, Position, StoredEvent
from eventstore.errors import (
    DatabaseUnavailable,
    DataRejected,
    DuplicateEventConflict,
    EventsNotStorable,
    EventStoreError,
    MigrationChecksumMismatch,
    MigrationError,
    StreamVersionConflict,
)
from eventstore.pool import DatabaseSettings, Pool, create_pool
from eventstore.postgres import AppendObserver, PostgresEventStore, append_in_transaction

__all__ = [
    "AppendObserver",
    "AppendResult",
    "DataRejected",
    "DatabaseSettings",
    "DatabaseUnavailable",
    "DuplicateEventConflict",
    "EventStore",
    "EventStoreError",
    "EventsNotStorable",
    "MigrationChecksumMismatch",
    "MigrationError",
    "Pool",
    "Position",
    "PostgresEventStore",
    "StoredEvent",
    "StreamVersionConflict",
    "append_in_transaction",
    "create_pool",
]
