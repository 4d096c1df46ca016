"""The PostgreSQL event store (asyncpg).

Safe tailing
------------
``global_position`` comes from an identity sequence, which hands out numbers when rows are
inserted, not when their transactions commit. With concurrent appenders, position 11 can
commit before position 10; a reader that has read 11 and then asks for ``position > 11``
never sees 10. Measured here with 8 writers, such a reader missed about 13% of events.

Each row therefore records its writing transaction's id (``xid8``, 64-bit, never wraps) and
readers order by ``(transaction_id, global_position)``, reading only rows whose transaction
id is below a *horizon*: a transaction id below which no event-writing transaction can
still commit. Every transaction below the horizon has ended, so the set of rows below it can
no longer change; every transaction that can still commit events has an id at or above the
horizon, hence above anything already read. A reader thus never skips an event and never
reads one twice, with no global write lock (writers stay concurrent) and no "gap timeout".

The horizon could simply be ``pg_snapshot_xmin(pg_current_snapshot())``, the oldest
transaction still running; it once was. But then *any* long-open transaction, even one that
never writes an event (a report, a projection's batch, a forgotten ``psql`` session), stalls
every reader. So the horizon considers event-writing transactions only, and they make
themselves known:

1. **Writers announce themselves before they have a transaction id.** Every append takes the
   shared advisory lock `APPENDING_LOCK` (``pg_advisory_xact_lock_shared``, held until the
   transaction ends; shared locks never wait for each other, so writers stay concurrent)
   *before* its transaction is assigned an id. In the one-statement append the lock is a CTE
   that the inserted rows join, so it is taken before the first row, and with it the id,
   exists. `append_in_transaction` takes it first and refuses a transaction that already has
   an id without holding it. For every other writer (an older version of this code during a
   rolling deployment, a script) the table's ``BEFORE INSERT … FOR EACH STATEMENT`` trigger
   (migration 0002) does the same: it fires before the statement forms its first row. The
   store's own sessions skip it (`STORE_SESSION_SETTING`, migration 0003): their statements
   take the lock themselves, and the trigger call cost about 15% of the append rate.
2. **The horizon** (statement `_HORIZON`) is computed in one statement with snapshot ``S``:
   the smallest id among the transactions running at ``S`` (``pg_snapshot_xip(S)``) that
   hold `APPENDING_LOCK` (``pg_locks``: the lock's holders, and the id each of those
   transactions holds its own ``transactionid`` lock on), or ``pg_snapshot_xmax(S)`` when
   there is none.
3. **The rows** below the horizon are read by a *second* statement, with a fresh snapshot
   ``S2`` (`_READ_ALL`; pooled connections run in autocommit, so each statement has one).

Why nothing below the horizon ``H`` can still appear after ``S2``: take an event-writing
transaction ``T`` with id ``x < H``. As ``H <= xmax(S)``, ``x`` was assigned before ``S``
was taken, and by (1) ``T`` held the lock from before that until it ended. The statement
takes ``S`` when it starts and reads ``pg_locks`` afterwards, while it executes. Either ``T``
ended before ``S``: then it ended before ``S2`` too. Or ``T`` was running at ``S``: then
``x`` is in ``pg_snapshot_xip(S)``, and when ``pg_locks`` was read, ``T`` either still held
the advisory lock and its own ``transactionid`` lock, so ``H <= x`` (contradiction), or it
had released them, which PostgreSQL does only after removing ``T`` from the running
transactions (``ProcArrayEndTransaction`` precedes the lock release at commit and abort), so
``T`` ended before ``S2`` was taken. Either way ``S2`` sees all of ``T``'s rows, or ``T``
aborted. And every writer still to commit has an id ``>= H``: ``T`` above with ``x >= H``,
or a writer whose id is assigned after ``S``, which is at least ``xmax(S) >= H``.

A writer that holds the lock but has no id yet when ``pg_locks`` is read does not bound the
horizon, rightly: its id will be at least ``xmax(S)``. Without step (1)'s order (lock, then
id) a writer could get its id before ``S``, be missed in ``pg_locks``, and commit below a
horizon a reader already passed; that is what `append_in_transaction`'s guard prevents. The
two statements must not share a snapshot (a ``REPEATABLE READ`` transaction): ``S2`` has to
be taken after ``pg_locks`` was read.

The price: an *event-writing* transaction that stays open holds the horizon back and delays
(never loses) events committed after it started. The store's own appends are single
statements; transactions around `append_in_transaction` are the caller's to keep short, and
the pool sets ``idle_in_transaction_session_timeout`` on its sessions. Other transactions,
however long, delay nobody.

Appends
-------
One statement per append: a guarded ``INSERT … SELECT FROM unnest(…)`` that inserts only
when the stream is at the expected version. Two appenders at the same expected version both
pass the guard; the unique index on ``(stream_id, stream_version)`` makes the second wait for
the first and then fail, which becomes `StreamVersionConflict`. When nothing was inserted,
one more query tells an idempotent retry (every event id already stored at exactly the
requested versions) from a real conflict.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

from events import EventEnvelope, NewEvent
from eventstore.base import AppendResult, Position, StoredEvent
from eventstore.errors import (
    DuplicateEventConflict,
    EventsNotStorable,
    StreamVersionConflict,
)
from eventstore.migrator import Connection, load_migrations, migrate
from eventstore.pool import STORE_SESSION_SETTING as STORE_SESSION_SETTING
from eventstore.pool import DatabaseSettings, create_pool
from eventstore.pool import redact_dsn as redact_dsn
from eventstore.tracing import current_trace_context

SCHEMA = "eventstore"
APPENDED_CHANNEL = "eventstore_appended"
"""Notified (empty payload) after appends commit; tailing readers LISTEN to wake up early."""
ANNOUNCE_COALESCE_SECONDS = 0.005

APPENDING_LOCK = 0x6D66_6C6F_7765_7673  # "mflowevs"
"""Advisory lock key every event-writing transaction holds (shared) from before it has an id.

Readers find in-progress writers by it (see the module docstring). Nothing takes it
exclusively: an exclusive holder would make every append wait.
"""
_LOCK_CLASSID = APPENDING_LOCK >> 32  # how pg_locks shows a bigint advisory key
_LOCK_OBJID = APPENDING_LOCK & 0xFFFF_FFFF

# The lock is a CTE the inserted rows join: it is taken before the first row is formed, and
# a row is what gets the transaction its id (the transaction_id default, the identity).
_APPEND = f"""
WITH appending AS (SELECT pg_advisory_xact_lock_shared({APPENDING_LOCK}))
INSERT INTO {SCHEMA}.events (
    event_id, stream_id, stream_version, event_type, schema_version,
    occurred_at, correlation_id, causation_id, data, traceparent, tracestate
)
SELECT e.event_id, $1, $2 + e.ordinality::integer, e.event_type, e.schema_version,
       e.occurred_at, e.correlation_id, e.causation_id, e.data::jsonb, $10, $11
FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::timestamptz[], $7::text[], $8::text[],
            $9::text[])
     WITH ORDINALITY AS e(event_id, event_type, schema_version, occurred_at, correlation_id,
                          causation_id, data, ordinality)
     CROSS JOIN appending
WHERE (SELECT coalesce(max(stream_version), 0) FROM {SCHEMA}.events WHERE stream_id = $1) = $2
RETURNING global_position, stream_version
"""

_EXISTING = f"""
SELECT event_id, stream_id, stream_version, global_position
FROM {SCHEMA}.events WHERE event_id = ANY($1::uuid[])
"""

_STREAM_VERSION = f"""
SELECT coalesce(max(stream_version), 0) FROM {SCHEMA}.events WHERE stream_id = $1
"""

# The converted transaction id gets its own name: were it aliased ``transaction_id``, the
# ORDER BY below would sort by the converted value and could not walk the tailing index.
_COLUMNS = """
global_position, transaction_id::text::bigint AS transaction_number, event_id, stream_id,
stream_version, event_type, schema_version, occurred_at, recorded_at, correlation_id,
causation_id, data::text AS data, traceparent, tracestate
"""

_READ_STREAM = f"""
SELECT {_COLUMNS} FROM {SCHEMA}.events
WHERE stream_id = $1 AND stream_version >= $2
ORDER BY stream_version
LIMIT $3
"""

# Where a caller's transaction stands before `append_in_transaction` appends: true when the
# lock can still be taken in time (no id yet), or was (an earlier append of the same one).
_MAY_APPEND_IN_TRANSACTION = f"""
SELECT pg_current_xact_id_if_assigned() IS NULL OR EXISTS (
    SELECT FROM pg_locks
    WHERE pid = pg_backend_pid() AND granted AND locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = {_LOCK_CLASSID} AND objid = {_LOCK_OBJID} AND objsubid = 1
)
"""

_TAKE_APPENDING_LOCK = f"SELECT pg_advisory_xact_lock_shared({APPENDING_LOCK})"

# The tailing horizon, step 2 of the module docstring. pg_locks is read once (a materialized
# CTE: one pg_lock_status() call, one moment), and after the statement's snapshot was taken.
_HORIZON = f"""
WITH locks AS MATERIALIZED (
    SELECT locktype, virtualtransaction, transactionid FROM pg_locks
    WHERE granted AND (
        (locktype = 'transactionid' AND mode = 'ExclusiveLock')
        OR (locktype = 'advisory'
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid = {_LOCK_CLASSID} AND objid = {_LOCK_OBJID} AND objsubid = 1)
    )
)
SELECT least(
    pg_snapshot_xmax(snapshot.current),
    (SELECT min(running.id)
     FROM pg_snapshot_xip(snapshot.current) AS running(id)
     JOIN locks AS own ON own.locktype = 'transactionid' AND own.transactionid = running.id::xid
     JOIN locks AS appending
          ON appending.locktype = 'advisory'
         AND appending.virtualtransaction = own.virtualtransaction)
)::text::bigint
FROM (SELECT pg_current_snapshot() AS current) AS snapshot
"""

# Step 3: rows below the horizon, in a statement (and snapshot) of its own.
_READ_ALL = f"""
SELECT {_COLUMNS} FROM {SCHEMA}.events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
  AND transaction_id < $4::text::xid8
ORDER BY events.transaction_id, events.global_position
LIMIT $3
"""

_READ_ALL_UNBOUNDED_LIMIT = 2**31 - 1


def _envelope(row: asyncpg.Record) -> EventEnvelope:
    return StoredEvent(row, Position.START).envelope


def _append_arguments(
    stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> tuple[Any, ...]:
    if not events:
        raise ValueError("an append needs at least one event")
    if expected_version < 0:
        raise ValueError("expected_version must be >= 0")
    # The appending span's context, for the relay to continue the trace (eventstore.tracing).
    traceparent, tracestate = current_trace_context()
    return (
        stream_id,
        expected_version,
        [event.event_id for event in events],
        [event.event_type for event in events],
        [event.schema_version for event in events],
        [event.occurred_at for event in events],
        [event.correlation_id for event in events],
        [event.causation_id for event in events],
        [json.dumps(event.data, separators=(",", ":")) for event in events],
        traceparent,
        tracestate,
    )


def _appended(stream_id: str, expected_version: int, rows: list[asyncpg.Record]) -> AppendResult:
    rows = sorted(rows, key=lambda row: row["stream_version"])
    return AppendResult(
        stream_id=stream_id,
        first_version=expected_version + 1,
        last_version=expected_version + len(rows),
        global_positions=[row["global_position"] for row in rows],
    )


async def append_in_transaction(
    connection: Connection,
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
) -> AppendResult:
    """Append within the caller's open transaction, so other writes commit with the events.

    Call it before the transaction writes anything else (it may append several times): safe
    tailing needs every event-writing transaction to announce itself before it is assigned a
    transaction id (see the module docstring). Until the transaction ends, it holds back
    every tailing reader, so keep it short.

    Unlike `PostgresEventStore.append`, a rejected append cannot be told from an idempotent
    retry here (the failed statement aborts the caller's transaction): every rejection raises
    `StreamVersionConflict`, and the caller retries the whole transaction.

    Raises:
        ValueError: No transaction is open, or it wrote before its first append.
        StreamVersionConflict: The stream is not at ``expected_version``.
    """
    if not connection.is_in_transaction():
        raise ValueError("append_in_transaction needs an open transaction")
    if not await connection.fetchval(_MAY_APPEND_IN_TRANSACTION):
        raise ValueError(
            "append_in_transaction must come before the transaction's other writes: a tailing "
            "reader could otherwise skip its events"
        )
    # Held by the caller's transaction itself (not the savepoint below), until it ends.
    await connection.execute(_TAKE_APPENDING_LOCK)
    try:
        async with connection.transaction():  # a savepoint: the version can still be read
            rows = await connection.fetch(
                _APPEND, *_append_arguments(stream_id, expected_version, events)
            )
    except asyncpg.UniqueViolationError:
        rows = []
    except asyncpg.PostgresError as error:
        _raise_if_data_refused(stream_id, error)
        raise
    if not rows:
        actual: int = await connection.fetchval(_STREAM_VERSION, stream_id)
        raise StreamVersionConflict(stream_id, expected_version, actual)
    return _appended(stream_id, expected_version, rows)


_READ_STREAMS = f"""
SELECT {_COLUMNS} FROM {SCHEMA}.events
WHERE stream_id = ANY($1::text[])
ORDER BY stream_id, stream_version
"""


async def stream_version_in(connection: Connection, stream_id: str) -> int:
    """The current version of a stream, read on the caller's connection (0: no stream).

    A read assigns no transaction id, so `append_in_transaction` may still follow it.
    """
    version: int = await connection.fetchval(_STREAM_VERSION, stream_id)
    return version


async def read_streams(connection: Connection, stream_ids: Sequence[str]) -> list[EventEnvelope]:
    """Every event of the streams, by stream and then version, in one query."""
    rows = await connection.fetch(_READ_STREAMS, list(stream_ids))
    return [_envelope(row) for row in rows]


def _raise_if_data_refused(stream_id: str, error: asyncpg.PostgresError) -> None:
    """Translate a refusal of the data itself (SQLSTATE class 22 or 23) to `EventsNotStorable`.

    Such an append fails the same way however often it is retried; anything else (a lost
    connection, a terminated backend, a timeout) is left to the caller's retries. The
    reason names the error class only: the driver's message may quote the value.
    """
    sqlstate = str(getattr(error, "sqlstate", "") or "")
    if sqlstate[:2] in ("22", "23"):
        raise EventsNotStorable(stream_id, sqlstate, type(error).__name__) from error


class AppendObserver(Protocol):
    """Told of every `PostgresEventStore.append`, e.g. to export its latency as a metric.

    ``outcome`` is ``appended``, ``duplicate`` (an idempotent retry), ``conflict`` (the
    stream was not at the expected version, or an event id is taken) or ``failed`` (any
    other error, the database away included); ``events`` is how many were asked to be
    appended; ``seconds`` is the time the append took, from the call to its answer.
    """

    def __call__(self, *, outcome: str, events: int, seconds: float) -> None:
        """Record one append; must not raise, nor block the event loop."""


class PostgresEventStore:
    """Event store on PostgreSQL; build it with `connect`, release it with `close`.

    Wake-ups: after an append commits, the store notifies `APPENDED_CHANNEL` from a separate
    statement, coalesced to at most one notification in flight plus one follow-up every few
    milliseconds. NOTIFY inside the appending transaction (a trigger) would be simpler, but
    PostgreSQL serialises the commits of notifying transactions on one lock, which halved
    the append rate of 8 concurrent writers here. A lost notification costs a reader one
    polling interval, never an event.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        owns_pool: bool = True,
        on_append: AppendObserver | None = None,
    ) -> None:
        self._pool = pool
        self._owns_pool = owns_pool
        self._on_append = on_append
        self._announcer: asyncio.Task[None] | None = None
        self._announce_again = False

    @classmethod
    async def open(
        cls,
        pool: asyncpg.Pool,
        *,
        apply_migrations: bool = True,
        on_append: AppendObserver | None = None,
    ) -> PostgresEventStore:
        """The store over a pool from `eventstore.pool.create_pool`, which the caller closes.

        Args:
            pool: The pool.
            apply_migrations: Bring the schema up to date first.
            on_append: Told of every append's outcome and duration (metrics).

        Raises:
            DatabaseUnavailable: The database went away while migrating.
        """
        store = cls(pool, owns_pool=False, on_append=on_append)
        if apply_migrations:
            await store.migrate()
        return store

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 2,
        max_size: int = 10,
        timeout: float = 10.0,
        idle_in_transaction_timeout_ms: int = 60_000,
        apply_migrations: bool = True,
    ) -> PostgresEventStore:
        """Open a pool of its own (`create_pool`) and bring the schema up to date.

        Raises:
            DatabaseUnavailable: PostgreSQL cannot be reached or refuses the connection.
        """
        pool = await create_pool(
            DatabaseSettings(
                dsn,
                min_size=min_size,
                max_size=max_size,
                connect_timeout=timeout,
                idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms,
            )
        )
        store = cls(pool)
        if apply_migrations:
            try:
                await store.migrate()
            except BaseException:
                await pool.close()
                raise
        return store

    @property
    def pool(self) -> asyncpg.Pool:
        """The connection pool (shared with projections that write in the same database)."""
        return self._pool

    async def migrate(self) -> int:
        """Apply missing migrations; return how many were applied."""
        async with self._pool.acquire() as connection:
            return await migrate(connection, SCHEMA, load_migrations("eventstore"))

    async def close(self) -> None:
        """Send a pending wake-up notification, then close the pool if the store opened it."""
        if self._announcer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._announcer
        if self._owns_pool:
            await self._pool.close()

    async def append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        """See `eventstore.base.EventStore.append`."""
        if self._on_append is None:
            return await self._append(stream_id, expected_version, events)
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await self._append(stream_id, expected_version, events)
            outcome = "duplicate" if result.duplicate else "appended"
            return result
        except (StreamVersionConflict, DuplicateEventConflict):
            outcome = "conflict"
            raise
        finally:
            self._on_append(
                outcome=outcome, events=len(events), seconds=time.perf_counter() - started
            )

    async def _append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        arguments = _append_arguments(stream_id, expected_version, events)
        try:
            rows = await self._pool.fetch(_APPEND, *arguments)
        except asyncpg.UniqueViolationError:
            # A concurrent append won the race for these versions or ids; it has committed
            # by now (the unique check waited for it). Decide below what that means.
            rows = []
        except asyncpg.PostgresError as error:
            _raise_if_data_refused(stream_id, error)
            raise
        if rows:
            self._announce_append()
            return _appended(stream_id, expected_version, rows)
        return await self._resolve_rejected_append(stream_id, expected_version, events)

    def _announce_append(self) -> None:
        if self._announcer is not None and not self._announcer.done():
            self._announce_again = True  # the running announcer sends one more
            return
        self._announcer = asyncio.get_running_loop().create_task(self._announce())

    async def _announce(self) -> None:
        while True:
            self._announce_again = False
            try:
                await self._pool.execute("SELECT pg_notify($1, '')", APPENDED_CHANNEL)
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                # A backend terminated mid-statement, as asyncpg reports it (asyncpg#1069).
                asyncpg.InternalClientError,
            ):
                return  # best effort: readers poll as well
            if not self._announce_again:
                return
            await asyncio.sleep(ANNOUNCE_COALESCE_SECONDS)

    async def _resolve_rejected_append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent]
    ) -> AppendResult:
        existing = {
            row["event_id"]: row
            for row in await self._pool.fetch(_EXISTING, [event.event_id for event in events])
        }
        if existing:
            same_append = len(existing) == len(events) and all(
                (row := existing.get(event.event_id)) is not None
                and row["stream_id"] == stream_id
                and row["stream_version"] == expected_version + offset
                for offset, event in enumerate(events, start=1)
            )
            if same_append:
                return AppendResult(
                    stream_id=stream_id,
                    first_version=expected_version + 1,
                    last_version=expected_version + len(events),
                    global_positions=[
                        existing[event.event_id]["global_position"] for event in events
                    ],
                    duplicate=True,
                )
            if any(row["stream_id"] != stream_id for row in existing.values()):
                raise DuplicateEventConflict(stream_id, sorted(str(key) for key in existing))
        actual = await self.stream_version(stream_id)
        raise StreamVersionConflict(stream_id, expected_version, actual)

    async def stream_version(self, stream_id: str) -> int:
        """See `eventstore.base.EventStore.stream_version`."""
        version: int = await self._pool.fetchval(_STREAM_VERSION, stream_id)
        return version

    async def read_stream(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[EventEnvelope]:
        """See `eventstore.base.EventStore.read_stream`."""
        rows = await self._pool.fetch(
            _READ_STREAM, stream_id, from_version, limit or _READ_ALL_UNBOUNDED_LIMIT
        )
        return [_envelope(row) for row in rows]

    async def read_stream_stored(
        self, stream_id: str, from_version: int = 1, limit: int | None = None
    ) -> list[StoredEvent]:
        """As `read_stream`, the events as `StoredEvent` (data still JSON), like `read_all`."""
        rows = await self._pool.fetch(
            _READ_STREAM, stream_id, from_version, limit or _READ_ALL_UNBOUNDED_LIMIT
        )
        return [
            StoredEvent(row, Position(row["transaction_number"], row["global_position"]))
            for row in rows
        ]

    async def read_all(
        self, after: Position = Position.START, limit: int = 1000
    ) -> list[StoredEvent]:
        """See `eventstore.base.EventStore.read_all` and the module docstring."""
        async with self._pool.acquire() as connection:
            horizon: int = await connection.fetchval(_HORIZON)
            if horizon <= after.transaction_id:
                return []  # nothing new can be below the horizon yet
            rows = await connection.fetch(
                _READ_ALL, str(after.transaction_id), after.global_position, limit, str(horizon)
            )
        return [
            StoredEvent(row, Position(row["transaction_number"], row["global_position"]))
            for row in rows
        ]
