"""Event store throughput next to PostgreSQL's own rate for the same rows, in the same run.

Run ``python -m bench.eventstore_bench [--database-url URL] [--events N] [--json]``.

Three benchmarks, each in a fresh database created on the server of ``--database-url`` and
dropped at the end. Each database holds the store's schema (``eventstore.events``, migrated by
`PostgresEventStore.connect`) and ``bench_raw.events``, created ``LIKE eventstore.events
INCLUDING ALL`` (identity, defaults such as the xid8 ``pg_current_xact_id()``, checks, primary
key, unique constraints, tailing index) and checked to be identical. Events are realistic
ConversationHeld events (600-800 bytes of JSON data), generated before any timing.

* single appends (a): 1 event per `PostgresEventStore.append`, 8 writers, each on its own
  streams, expected versions tracked per stream; baseline: the same rows as single-row
  ``INSERT`` transactions from 8 connections.
* batched appends (b): 10 events per append, 8 writers; baselines: the same rows by
  ``executemany`` (10 rows per call: one transaction, like one append) and by
  ``copy_records_to_table`` (10 rows per call from 8 connections, and all rows in one call).
  8 writers, as in (a): both sides get the same concurrency and group commit; 1 writer on
  both sides gave about the same ratio.
* reads (c, d): every event through `PostgresEventStore.read_all` pages in tailing order, as
  raw envelopes and decoded by `CATALOG.decode`; baseline: keyset-paged ``SELECT … ORDER BY
  global_position`` of the same rows and columns (copied from the store's table, transaction
  ids included). Median of `READ_PASSES` passes, the readers taking turns.

Writes run in `WRITE_ROUNDS` rounds, each on its share of the streams, the contenders' order
reversed every other round so that drift and other load on the machine weigh on all of them.
Every timed round starts from an empty table (``TRUNCATE … RESTART IDENTITY``), a warm-up on
other streams and a ``CHECKPOINT`` (so full-page writes weigh the same on every side).

Rows marked "diagnostic" run the store's own SQL on dedicated connections, without the pool
and without building envelopes, to tell the SQL's cost from the Python around it. The "cpu µs"
columns are this process's CPU time per event: the client's share (the server is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from events import CATALOG, NewEvent
from events.mentorship import ActionItem, ConversationHeld
from eventstore import Position, PostgresEventStore
from eventstore.postgres import (
    _APPEND,
    _HORIZON,
    _READ_ALL,
    STORE_SESSION_SETTING,
    _append_arguments,
    redact_dsn,
)
from mentorflow.settings import load_settings

WRITERS = 8
BATCH_SIZE = 10
EVENTS_PER_STREAM = 20
PAGE_SIZE = 1000
READ_PASSES = 3
WRITE_ROUNDS = 4
DEFAULT_EVENTS = 20_000
WARM_UP_FRACTION = 0.02
MAINTENANCE_DATABASE = "postgres"
SEED = 2027

SINGLE_APPEND_MINIMUM_RATIO = 0.70
BATCHED_APPEND_MINIMUM_RATIO = 0.60
READ_ALL_MINIMUM_RATE = 100_000.0
DECODED_READ_MINIMUM_RATE = 40_000.0

DIAGNOSTIC = "diagnostic: "
"""Prefix of measurements that explain others (no target)."""

STORE_TABLE = "eventstore.events"
RAW_SCHEMA = "bench_raw"
RAW_TABLE = f"{RAW_SCHEMA}.events"
INSERT_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "schema_version",
    "occurred_at",
    "correlation_id",
    "causation_id",
    "data",
)
RAW_INSERT = (
    f"INSERT INTO {RAW_TABLE} ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(f'${number}' for number in range(1, len(INSERT_COLUMNS) + 1))})"
)
# The same columns, in the same types, as the store's read_all.
RAW_SELECT_PAGE = f"""
SELECT global_position, transaction_id::text::bigint AS transaction_id, event_id, stream_id,
       stream_version, event_type, schema_version, occurred_at, recorded_at, correlation_id,
       causation_id, data::text AS data
FROM {RAW_TABLE}
WHERE global_position > $1
ORDER BY global_position
LIMIT $2
"""

RawRow = tuple[uuid.UUID, str, int, str, int, datetime, str, str | None, str]
"""One event as the baseline inserts it, in the order of `INSERT_COLUMNS`."""

VOCABULARY = """
career goals progress feedback project ownership visibility stakeholder roadmap review
promotion scope impact design architecture delivery mentoring pairing confidence
communication presentation planning priorities growth leadership technical debt quality
testing customer discovery backlog estimate conflict negotiation delegation writing
learning curiosity reflection habit weekly cadence milestone outcome practice support
challenge strengths blind spots next quarter team peers manager expectations
"""
WORDS = tuple(VOCABULARY.split())
SKILLS = (
    "public-speaking",
    "system-design",
    "code-review",
    "stakeholder-management",
    "estimation",
    "technical-writing",
    "facilitation",
    "incident-response",
    "product-thinking",
    "delegation",
)


# Workload ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamEvents:
    """Consecutive events of one stream, for the store and as the baseline's rows."""

    stream_id: str
    new_events: tuple[NewEvent, ...]
    rows: tuple[RawRow, ...]


Append = StreamEvents
"""The events of one append: a slice of a stream."""


@dataclass(frozen=True, slots=True)
class Workload:
    """Per writer: its streams for the warm-up and for the timed phase."""

    warm_up: list[list[StreamEvents]]
    measured: list[list[StreamEvents]]

    @property
    def event_count(self) -> int:
        """Events of the timed phase."""
        return sum(len(stream.rows) for streams in self.measured for stream in streams)


WriterPlans = list[list[Append]]
"""Per writer, its appends in order."""


def sentence(rng: random.Random, shortest: int, longest: int) -> str:
    """A sentence of random words."""
    words = rng.choices(WORDS, k=rng.randint(shortest, longest))
    return " ".join(words).capitalize() + "."


def conversation_held(rng: random.Random, number: int, held_at: datetime) -> ConversationHeld:
    """A realistic ConversationHeld (its data is about 600-800 bytes of JSON)."""
    return ConversationHeld(
        conversation_number=number,
        held_at=held_at,
        goal_ids=[f"goal-{rng.randrange(10_000):04d}" for _ in range(rng.randint(1, 3))],
        skills=rng.sample(SKILLS, k=rng.randint(2, 4)),
        feedback_to_mentee=sentence(rng, 10, 14),
        feedback_to_mentor=sentence(rng, 5, 9),
        notes=sentence(rng, 8, 11),
        action_items=[
            ActionItem(
                item_id=f"action-{number:02d}-{item}",
                owner=rng.choice(("mentor", "mentee")),
                description=sentence(rng, 5, 7),
                due_at=held_at + timedelta(days=14 * item),
            )
            for item in range(1, rng.randint(1, 2) + 1)
        ],
    )


def raw_row(stream_id: str, stream_version: int, event: NewEvent) -> RawRow:
    """The baseline's row of ``event``, with its data as JSON text."""
    return (
        event.event_id,
        stream_id,
        stream_version,
        event.event_type,
        event.schema_version,
        event.occurred_at,
        event.correlation_id,
        event.causation_id,
        json.dumps(event.data, separators=(",", ":")),
    )


def stream_events(rng: random.Random, stream_id: str, event_count: int) -> StreamEvents:
    """A mentorship stream of ``event_count`` conversations, each caused by the previous one."""
    started_at = datetime(2027, 1, 11, 9, 0, tzinfo=UTC) + timedelta(minutes=rng.randrange(10**5))
    new_events: list[NewEvent] = []
    causation_id: str | None = None
    for version in range(1, event_count + 1):
        held_at = started_at + timedelta(days=7 * version)
        event = NewEvent.from_domain(
            conversation_held(rng, version, held_at),
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            occurred_at=held_at,
            correlation_id=f"mentorship-workflow-{stream_id}",
            causation_id=causation_id,
        )
        new_events.append(event)
        causation_id = str(event.event_id)
    rows = tuple(
        raw_row(stream_id, version, event) for version, event in enumerate(new_events, start=1)
    )
    return StreamEvents(stream_id, tuple(new_events), rows)


def writer_streams(
    rng: random.Random, label: str, writer: int, event_count: int
) -> list[StreamEvents]:
    """``event_count`` events of one writer, in streams of up to `EVENTS_PER_STREAM`."""
    streams: list[StreamEvents] = []
    for stream_number, first in enumerate(range(0, event_count, EVENTS_PER_STREAM)):
        stream_id = f"mentorship-bench-2027-q1-{label}{writer}-p{stream_number:04d}"
        length = min(EVENTS_PER_STREAM, event_count - first)
        streams.append(stream_events(rng, stream_id, length))
    return streams


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` counts that differ by at most one."""
    return [total // parts + (1 if part < total % parts else 0) for part in range(parts)]


def build_workload(event_count: int, writers: int = WRITERS) -> Workload:
    """The warm-up and timed events of every writer, from a fixed seed."""
    rng = random.Random(SEED)
    warm_up_count = max(writers * EVENTS_PER_STREAM, math.ceil(event_count * WARM_UP_FRACTION))
    return Workload(
        warm_up=[
            writer_streams(rng, "warmup", writer, count)
            for writer, count in enumerate(split_evenly(warm_up_count, writers))
        ],
        measured=[
            writer_streams(rng, "w", writer, count)
            for writer, count in enumerate(split_evenly(event_count, writers))
        ],
    )


def plan_appends(streams: Sequence[StreamEvents], batch_size: int) -> list[Append]:
    """Appends of ``batch_size`` events, going round the streams (as live traffic would)."""
    appends: list[Append] = []
    for first in range(0, EVENTS_PER_STREAM, batch_size):
        for stream in streams:
            last = first + batch_size
            if first < len(stream.rows):
                appends.append(
                    Append(stream.stream_id, stream.new_events[first:last], stream.rows[first:last])
                )
    return appends


def plan_writers(per_writer: Sequence[Sequence[StreamEvents]], batch_size: int) -> WriterPlans:
    """Each writer's appends."""
    return [plan_appends(streams, batch_size) for streams in per_writer]


# Writers -------------------------------------------------------------------------------------


Writer = Callable[[int, Sequence[Append]], Awaitable[None]]
"""Writes one writer's appends; gets the writer's index (to pick its connection)."""


def store_appender(store: PostgresEventStore) -> Writer:
    """Appends through the store, tracking each stream's version from the append results."""

    async def write(_writer: int, appends: Sequence[Append]) -> None:
        versions: dict[str, int] = {}
        for append in appends:
            result = await store.append(
                append.stream_id, versions.get(append.stream_id, 0), append.new_events
            )
            versions[append.stream_id] = result.last_version

    return write


def append_sql_runner(connections: Sequence[asyncpg.Connection]) -> Writer:
    """Diagnostic: the store's append statement on dedicated connections, without the pool."""

    async def write(writer: int, appends: Sequence[Append]) -> None:
        connection = connections[writer]
        versions: dict[str, int] = {}
        for append in appends:
            expected_version = versions.get(append.stream_id, 0)
            arguments = _append_arguments(append.stream_id, expected_version, append.new_events)
            rows = await connection.fetch(_APPEND, *arguments)
            if len(rows) != len(append.new_events):
                raise RuntimeError(f"append to {append.stream_id} at {expected_version} rejected")
            versions[append.stream_id] = expected_version + len(rows)

    return write


def row_inserter(connections: Sequence[asyncpg.Connection]) -> Writer:
    """Baseline: one single-row INSERT transaction per row."""

    async def write(writer: int, appends: Sequence[Append]) -> None:
        connection = connections[writer]
        for append in appends:
            for row in append.rows:
                await connection.execute(RAW_INSERT, *row)

    return write


def many_executor(connections: Sequence[asyncpg.Connection]) -> Writer:
    """Baseline: one executemany (one transaction) per append's rows."""

    async def write(writer: int, appends: Sequence[Append]) -> None:
        connection = connections[writer]
        for append in appends:
            await connection.executemany(RAW_INSERT, append.rows)

    return write


def copier(connections: Sequence[asyncpg.Connection]) -> Writer:
    """Baseline: one COPY (copy_records_to_table) per append's rows."""

    async def write(writer: int, appends: Sequence[Append]) -> None:
        connection = connections[writer]
        for append in appends:
            await connection.copy_records_to_table(
                "events", schema_name=RAW_SCHEMA, columns=INSERT_COLUMNS, records=append.rows
            )

    return write


def bulk_copier(connections: Sequence[asyncpg.Connection]) -> Writer:
    """Baseline: all of a writer's rows in one COPY."""

    async def write(writer: int, appends: Sequence[Append]) -> None:
        rows = [row for append in appends for row in append.rows]
        await connections[writer].copy_records_to_table(
            "events", schema_name=RAW_SCHEMA, columns=INSERT_COLUMNS, records=rows
        )

    return write


async def run_writers(plans: WriterPlans, write: Writer) -> None:
    """Every writer concurrently, each with its own appends."""
    await asyncio.gather(*(write(writer, appends) for writer, appends in enumerate(plans)))


# Measurements --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """How many rows (or events) took how long, and how much CPU this (client) process used."""

    rows: int
    seconds: float
    client_cpu_seconds: float

    @property
    def per_second(self) -> float:
        """Rows per second."""
        return self.rows / self.seconds

    @property
    def client_cpu_microseconds_per_row(self) -> float:
        """CPU time of this process per row: what the client side costs."""
        return 1e6 * self.client_cpu_seconds / self.rows

    def describe(self) -> str:
        """For progress lines."""
        return (
            f"{self.per_second:,.0f} rows/s ({self.seconds:.2f} s, "
            f"client CPU {self.client_cpu_microseconds_per_row:.0f} µs/row)"
        )


async def timed(work: Callable[[], Awaitable[int]]) -> Timing:
    """Run ``work`` (which returns how many rows it handled) and time it."""
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = await work()
    return Timing(rows, time.perf_counter() - started, time.process_time() - cpu_started)


def median_timing(timings: Sequence[Timing]) -> Timing:
    """The pass of median duration."""
    return sorted(timings, key=lambda timing: timing.seconds)[len(timings) // 2]


def progress(message: str) -> None:
    """Progress on stderr, so that ``--json`` output stays clean."""
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Contender:
    """One way of writing the rows: where to, how, and whether from a single writer."""

    name: str
    table: str
    write: Writer
    single_writer: bool = False

    def plans(self, plans: WriterPlans) -> WriterPlans:
        """``plans`` as this contender runs them: all appends in one writer if it says so."""
        if not self.single_writer:
            return plans
        return [[append for appends in plans for append in appends]]


def total_timing(timings: Sequence[Timing]) -> Timing:
    """Rows and seconds of several timed rounds, added up."""
    return Timing(
        sum(timing.rows for timing in timings),
        sum(timing.seconds for timing in timings),
        sum(timing.client_cpu_seconds for timing in timings),
    )


# Databases -----------------------------------------------------------------------------------


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database of the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@asynccontextmanager
async def fresh_database(server_url: str, label: str) -> AsyncIterator[str]:
    """A new, empty database on the server of ``server_url``; dropped afterwards."""
    name = f"bench_{label}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(with_database(server_url, MAINTENANCE_DATABASE))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


TABLE_SHAPE_QUERIES = {
    "columns": """
        SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity,
               pg_get_expr(adbin, adrelid)
        FROM pg_attribute LEFT JOIN pg_attrdef ON adrelid = attrelid AND adnum = attnum
        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
        ORDER BY attnum
    """,
    "indexes": """
        SELECT indisunique, indisprimary,
               split_part(pg_get_indexdef(indexrelid), ' USING ', 2) AS definition
        FROM pg_index WHERE indrelid = $1::regclass
        ORDER BY definition
    """,
    "constraints": """
        SELECT contype, pg_get_constraintdef(oid) AS definition
        FROM pg_constraint WHERE conrelid = $1::regclass
        ORDER BY contype, definition
    """,
}


async def table_shape(
    connection: asyncpg.Connection, table: str
) -> dict[str, list[tuple[Any, ...]]]:
    """Columns (types, defaults, identity), indexes and constraints of ``table``."""
    return {
        part: [tuple(row) for row in await connection.fetch(query, table)]
        for part, query in TABLE_SHAPE_QUERIES.items()
    }


async def create_raw_table(connection: asyncpg.Connection) -> None:
    """``bench_raw.events``: identical to the store's table; fails if it is not."""
    await connection.execute(
        f"CREATE SCHEMA {RAW_SCHEMA}; CREATE TABLE {RAW_TABLE} (LIKE {STORE_TABLE} INCLUDING ALL)"
    )
    store_shape = await table_shape(connection, STORE_TABLE)
    raw_shape = await table_shape(connection, RAW_TABLE)
    if store_shape != raw_shape:
        raise RuntimeError(f"{RAW_TABLE} differs from {STORE_TABLE}: {raw_shape} != {store_shape}")


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    """A fresh database: the store (pool of one connection per writer), raw connections."""

    store: PostgresEventStore
    connections: list[asyncpg.Connection]

    @property
    def admin(self) -> asyncpg.Connection:
        """A connection for set-up between timed phases."""
        return self.connections[0]


@asynccontextmanager
async def bench_database(server_url: str, label: str) -> AsyncIterator[BenchDatabase]:
    """A fresh database with the store's schema, the raw table and connections to both."""
    async with fresh_database(server_url, label) as url:
        store = await PostgresEventStore.connect(url, min_size=WRITERS, max_size=WRITERS)
        connections: list[asyncpg.Connection] = []
        try:
            # The store's session setting, so that the diagnostic runs its SQL as the store
            # does (no effect on the raw table).
            settings = dict([STORE_SESSION_SETTING])
            connections.extend(
                [await asyncpg.connect(url, server_settings=settings) for _ in range(WRITERS)]
            )
            await create_raw_table(connections[0])
            yield BenchDatabase(store, connections)
        finally:
            await asyncio.gather(*(connection.close() for connection in connections))
            await store.close()


async def checkpoint(connection: asyncpg.Connection) -> None:
    """Flush dirty pages now, so no timed phase pays for an earlier one's."""
    try:
        await connection.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        progress("no privilege to CHECKPOINT; timings may include earlier phases' writes")


def event_total(plans: WriterPlans) -> int:
    """How many events ``plans`` write."""
    return sum(len(append.rows) for appends in plans for append in appends)


async def measure_round(
    database: BenchDatabase, contender: Contender, warm_up: WriterPlans, measured: WriterPlans
) -> Timing:
    """Empty the table, warm up, checkpoint, then time the contender's writes."""
    warm_up, measured = contender.plans(warm_up), contender.plans(measured)
    await database.admin.execute(f"TRUNCATE {contender.table} RESTART IDENTITY")
    await run_writers(warm_up, contender.write)
    await checkpoint(database.admin)

    async def work() -> int:
        await run_writers(measured, contender.write)
        return event_total(measured)

    timing = await timed(work)
    stored = await database.admin.fetchval(f"SELECT count(*) FROM {contender.table}")
    written = event_total(warm_up) + event_total(measured)
    if stored != written:
        raise RuntimeError(f"{contender.name}: {stored} rows stored, {written} written")
    return timing


async def measure_writes(
    database: BenchDatabase,
    contenders: Sequence[Contender],
    workload: Workload,
    batch_size: int,
) -> dict[str, Timing]:
    """Time every contender on the same rows, in `WRITE_ROUNDS` rounds of alternating order.

    Each round writes its share of the streams; the order of the contenders is reversed every
    other round, so a drift of the machine (other load, checkpoints) weighs on all of them.
    """
    warm_up = plan_writers(workload.warm_up, batch_size)
    timings: dict[str, list[Timing]] = {contender.name: [] for contender in contenders}
    for number in range(WRITE_ROUNDS):
        measured = plan_writers(
            [streams[number::WRITE_ROUNDS] for streams in workload.measured], batch_size
        )
        order = contenders if number % 2 == 0 else list(reversed(contenders))
        for contender in order:
            timing = await measure_round(database, contender, warm_up, measured)
            timings[contender.name].append(timing)
    totals = {name: total_timing(rounds) for name, rounds in timings.items()}
    for name, timing in totals.items():
        progress(f"{name}: {timing.describe()}")
    return totals


# Reads ---------------------------------------------------------------------------------------


async def read_all_envelopes(store: PostgresEventStore) -> int:
    """Every event through read_all pages, raw (ids, types, JSON data); return how many.

    This is what a relay needs: it forwards the stored JSON without parsing it.
    """
    position, count = Position.START, 0
    while page := await store.read_all(position, limit=PAGE_SIZE):
        count += len([(stored.event_id, stored.event_type, stored.data_json) for stored in page])
        position = page[-1].position
    return count


async def read_all_decoded(store: PostgresEventStore) -> int:
    """Every event through read_all pages, decoded into typed events; return how many."""
    position, count = Position.START, 0
    while page := await store.read_all(position, limit=PAGE_SIZE):
        count += len([stored.decode(CATALOG) for stored in page])
        position = page[-1].position
    return count


async def read_all_sql(connection: asyncpg.Connection) -> int:
    """Diagnostic: the store's read_all statement, rows only (no envelopes, no pool)."""
    transaction_id, global_position, count = 0, 0, 0
    while page := await connection.fetch(
        _READ_ALL,
        str(transaction_id),
        global_position,
        PAGE_SIZE,
        str(await connection.fetchval(_HORIZON)),
    ):
        count += len(page)
        last = page[-1]
        transaction_id, global_position = last["transaction_number"], last["global_position"]
    return count


async def select_raw(connection: asyncpg.Connection) -> int:
    """Baseline: keyset pages of ``SELECT … ORDER BY global_position``; return how many rows."""
    global_position, count = 0, 0
    while page := await connection.fetch(RAW_SELECT_PAGE, global_position, PAGE_SIZE):
        count += len(page)
        global_position = page[-1]["global_position"]
    return count


async def copy_store_rows_to_raw(connection: asyncpg.Connection) -> None:
    """The store's rows, with their transaction ids and times, into the raw table."""
    columns = ", ".join(("transaction_id", *INSERT_COLUMNS, "recorded_at"))
    await connection.execute(
        f"INSERT INTO {RAW_TABLE} ({columns}) "
        f"SELECT {columns} FROM {STORE_TABLE} ORDER BY global_position"
    )


# Benchmarks ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a measurement should reach: a share of its baseline or an absolute rate."""

    description: str
    minimum_ratio: float | None = None
    minimum_rate: float | None = None

    def met(self, rate: float, ratio: float) -> bool:
        """Whether ``rate`` (and its ``ratio`` to the baseline) reach the target."""
        if self.minimum_ratio is not None and ratio < self.minimum_ratio:
            return False
        return self.minimum_rate is None or rate >= self.minimum_rate


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One line of the report."""

    measurement: str
    events_per_second: float
    client_cpu_microseconds_per_event: float
    baseline: str
    baseline_rows_per_second: float
    baseline_client_cpu_microseconds_per_row: float
    ratio_percent: float
    target: str | None
    status: str | None
    diagnostic: bool


def result_row(
    measurement: str,
    timing: Timing,
    baseline: str,
    baseline_timing: Timing,
    target: Target | None = None,
) -> ResultRow:
    """Compare ``timing`` with ``baseline_timing`` and check ``target``."""
    ratio = timing.per_second / baseline_timing.per_second
    status = None
    if target is not None:
        status = "PASS" if target.met(timing.per_second, ratio) else "MISS"
    return ResultRow(
        measurement=measurement,
        events_per_second=round(timing.per_second),
        client_cpu_microseconds_per_event=round(timing.client_cpu_microseconds_per_row, 1),
        baseline=baseline,
        baseline_rows_per_second=round(baseline_timing.per_second),
        baseline_client_cpu_microseconds_per_row=round(
            baseline_timing.client_cpu_microseconds_per_row, 1
        ),
        ratio_percent=round(100 * ratio, 1),
        target=None if target is None else target.description,
        status=status,
        diagnostic=measurement.startswith(DIAGNOSTIC),
    )


async def bench_single_appends(server_url: str, workload: Workload) -> list[ResultRow]:
    """(a) One event per append from 8 writers, against single-row INSERT transactions."""
    progress("single appends")
    async with bench_database(server_url, "single") as database:
        connections = database.connections
        timings = await measure_writes(
            database,
            [
                Contender("store append", STORE_TABLE, store_appender(database.store)),
                Contender("append SQL, no pool", STORE_TABLE, append_sql_runner(connections)),
                Contender("INSERT", RAW_TABLE, row_inserter(connections)),
            ],
            workload,
            batch_size=1,
        )
    baseline, insert = f"INSERT, 1 row/transaction, {WRITERS} connections", timings["INSERT"]
    return [
        result_row(
            f"(a) append, 1 event/append, {WRITERS} writers",
            timings["store append"],
            baseline,
            insert,
            Target(
                f">= {SINGLE_APPEND_MINIMUM_RATIO:.0%} of baseline",
                minimum_ratio=SINGLE_APPEND_MINIMUM_RATIO,
            ),
        ),
        result_row(
            f"{DIAGNOSTIC}append SQL, {WRITERS} connections, no pool",
            timings["append SQL, no pool"],
            baseline,
            insert,
        ),
    ]


async def bench_batched_appends(server_url: str, workload: Workload) -> list[ResultRow]:
    """(b) Ten events per append from 8 writers, against executemany and COPY."""
    progress("batched appends")
    async with bench_database(server_url, "batched") as database:
        connections = database.connections
        timings = await measure_writes(
            database,
            [
                Contender("store append", STORE_TABLE, store_appender(database.store)),
                Contender("append SQL, no pool", STORE_TABLE, append_sql_runner(connections)),
                Contender("executemany", RAW_TABLE, many_executor(connections)),
                Contender("COPY", RAW_TABLE, copier(connections)),
                Contender(
                    "COPY, one call", RAW_TABLE, bulk_copier(connections), single_writer=True
                ),
            ],
            workload,
            batch_size=BATCH_SIZE,
        )
    measurement = f"(b) append, {BATCH_SIZE} events/append, {WRITERS} writers"
    store, many = timings["store append"], timings["executemany"]
    many_baseline = f"executemany, {BATCH_SIZE} rows/call, {WRITERS} connections"
    return [
        result_row(
            measurement,
            store,
            many_baseline,
            many,
            Target(
                f">= {BATCHED_APPEND_MINIMUM_RATIO:.0%} of baseline",
                minimum_ratio=BATCHED_APPEND_MINIMUM_RATIO,
            ),
        ),
        result_row(
            measurement,
            store,
            f"COPY, {BATCH_SIZE} rows/call, {WRITERS} connections",
            timings["COPY"],
        ),
        result_row(
            measurement, store, "COPY, all rows in 1 call per round", timings["COPY, one call"]
        ),
        result_row(
            f"{DIAGNOSTIC}append SQL, {WRITERS} connections, no pool",
            timings["append SQL, no pool"],
            many_baseline,
            many,
        ),
    ]


Reader = Callable[[], Awaitable[int]]


async def measure_reads(readers: dict[str, Reader], expected: int) -> dict[str, Timing]:
    """Warm each reader up, then time `READ_PASSES` rounds of all readers; medians."""
    for reader in readers.values():
        await reader()
    timings: dict[str, list[Timing]] = {name: [] for name in readers}
    for _ in range(READ_PASSES):
        for name, reader in readers.items():
            timing = await timed(reader)
            if timing.rows != expected:
                raise RuntimeError(f"{name}: read {timing.rows} events, {expected} stored")
            timings[name].append(timing)
    medians = {name: median_timing(passes) for name, passes in timings.items()}
    for name, timing in medians.items():
        progress(f"{name}: {timing.describe()}, median pass")
    return medians


async def bench_reads(server_url: str, workload: Workload) -> list[ResultRow]:
    """(c, d) read_all pages, raw and decoded, against a keyset-paged SELECT of the same rows."""
    progress("reads")
    async with bench_database(server_url, "reads") as database:
        await run_writers(
            plan_writers(workload.measured, BATCH_SIZE), store_appender(database.store)
        )
        await copy_store_rows_to_raw(database.admin)
        await database.admin.execute(f"VACUUM (ANALYZE) {STORE_TABLE}, {RAW_TABLE}")
        store, connection = database.store, database.admin
        medians = await measure_reads(
            {
                "SELECT": lambda: select_raw(connection),
                "read_all": lambda: read_all_envelopes(store),
                "read_all decoded": lambda: read_all_decoded(store),
                "read_all SQL": lambda: read_all_sql(connection),
            },
            workload.event_count,
        )
    baseline = f"SELECT … ORDER BY global_position, {PAGE_SIZE}/page"
    select = medians["SELECT"]
    return [
        result_row(
            f"(c) read_all, raw stored events, {PAGE_SIZE}/page",
            medians["read_all"],
            baseline,
            select,
            Target(f">= {READ_ALL_MINIMUM_RATE:,.0f} events/s", minimum_rate=READ_ALL_MINIMUM_RATE),
        ),
        result_row(
            "(d) read_all, decoded typed events",
            medians["read_all decoded"],
            baseline,
            select,
            Target(
                f">= {DECODED_READ_MINIMUM_RATE:,.0f} events/s",
                minimum_rate=DECODED_READ_MINIMUM_RATE,
            ),
        ),
        result_row(
            f"{DIAGNOSTIC}read_all SQL, rows only", medians["read_all SQL"], baseline, select
        ),
    ]


# Report --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one run measured."""

    server_version: str
    events: int
    writers: int
    batch_size: int
    events_per_stream: int
    page_size: int
    read_passes: int
    write_rounds: int
    cpu_count: int
    average_data_bytes: int
    seconds: float
    rows: list[ResultRow]


def render_table(rows: Sequence[ResultRow]) -> str:
    """The rows as an aligned text table."""
    header = (
        "measurement",
        "events/s",
        "cpu µs",
        "baseline",
        "rows/s",
        "cpu µs",
        "ratio",
        "target",
        "",
    )
    cells = [header] + [
        (
            f"    {row.measurement}" if row.diagnostic else row.measurement,
            f"{row.events_per_second:,.0f}",
            f"{row.client_cpu_microseconds_per_event:.0f}",
            row.baseline,
            f"{row.baseline_rows_per_second:,.0f}",
            f"{row.baseline_client_cpu_microseconds_per_row:.0f}",
            f"{row.ratio_percent:.1f}%",
            row.target or "",
            row.status or "",
        )
        for row in rows
    ]
    widths = [max(len(line[column]) for line in cells) for column in range(len(header))]
    right_aligned = {1, 2, 4, 5, 6}

    def render_line(line: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if column in right_aligned else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render_line(cells[0]), rule, *(render_line(line) for line in cells[1:])])


def render_report(report: Report) -> str:
    """The report as readable text."""
    return "\n".join(
        [
            f"mentorflow event store benchmark: {report.server_version}",
            f"{report.events:,} events per write benchmark (ConversationHeld, "
            f"~{report.average_data_bytes} bytes of JSON data each), {report.writers} writers, "
            f"streams of {report.events_per_stream}; writes: {report.write_rounds} rounds of "
            f"alternating order; reads: median of {report.read_passes} passes; "
            f"{report.cpu_count} CPUs; {report.seconds:.0f} s in all",
            "",
            render_table(report.rows),
            "",
            "cpu µs: CPU time of this (client) process per event or row, server not included.",
            "diagnostic: the store's own SQL on dedicated connections, without the pool and",
            "without building envelopes, to tell the SQL's cost from the Python around it.",
        ]
    )


def average_data_bytes(workload: Workload) -> int:
    """Mean size of the events' JSON data."""
    rows = [row for streams in workload.measured for stream in streams for row in stream.rows]
    return round(statistics.fmean(len(row[-1].encode()) for row in rows))


async def server_version(server_url: str) -> str:
    """The server's version string, short."""
    connection = await asyncpg.connect(with_database(server_url, MAINTENANCE_DATABASE))
    try:
        version: str = await connection.fetchval("SELECT version()")
    finally:
        await connection.close()
    return version.split(" on ")[0]


async def run(server_url: str, event_count: int) -> Report:
    """All benchmarks, one fresh database each."""
    started = time.perf_counter()
    version = await server_version(server_url)
    progress(f"{redact_dsn(server_url)}: {version}; generating {event_count:,} events")
    workload = build_workload(event_count)
    # The pre-generated events are the harness's, not the store's: keep the garbage collector
    # from walking them again and again while the store's own allocations are timed.
    gc.collect()
    gc.freeze()
    rows = [
        *await bench_single_appends(server_url, workload),
        *await bench_batched_appends(server_url, workload),
        *await bench_reads(server_url, workload),
    ]
    return Report(
        server_version=version,
        events=workload.event_count,
        writers=WRITERS,
        batch_size=BATCH_SIZE,
        events_per_stream=EVENTS_PER_STREAM,
        page_size=PAGE_SIZE,
        read_passes=READ_PASSES,
        write_rounds=WRITE_ROUNDS,
        cpu_count=os.cpu_count() or 0,
        average_data_bytes=average_data_bytes(workload),
        seconds=round(time.perf_counter() - started, 1),
        rows=rows,
    )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.eventstore_bench",
        description="Event store throughput next to raw PostgreSQL for the same rows.",
    )
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server URL; each benchmark creates (and drops) its own database "
        "there (default: MENTORFLOW_DATABASE_URL / settings)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"events per write benchmark (default {DEFAULT_EVENTS:,})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    arguments = parser.parse_args(argv)
    if arguments.events < WRITERS:
        parser.error(f"--events must be at least {WRITERS}")
    return arguments


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmarks and print the report."""
    arguments = parse_arguments(argv)
    server_url: str = arguments.database_url or load_settings().database_url
    report = asyncio.run(run(server_url, arguments.events))
    if arguments.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(render_report(report))


if __name__ == "__main__":
    main()
