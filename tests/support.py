"""Helpers shared by the tests: waiting on conditions, fresh databases, event factories."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from events import NewEvent
from eventstore import PostgresEventStore
from mentorflow.settings import load_settings
from notifications import migrate_outbox
from projections import migrate_read_models
from vault import PersonalDataVault

T = TypeVar("T")


async def assert_eventually(
    probe: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool] = bool,
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition not met",
) -> T:
    """Poll ``probe`` until ``predicate`` holds for its result; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if predicate(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)


def with_database(dsn: str, database: str) -> str:
    """``dsn`` pointing at another database of the same server."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


async def create_database(server_dsn: str, prefix: str = "test", *, template: str = "") -> str:
    """Create a database with a unique name, empty or a copy of ``template``; return its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    connection = await asyncpg.connect(with_database(server_dsn, "postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    return with_database(server_dsn, name)


@dataclass(frozen=True)
class TemplateDatabase:
    """A database with every schema migrated, copied by `create_database` (``template=name``).

    Attributes:
        name: The database's name.
        schemas: Its schemas: what `clear_database` keeps (any other was made by a test).
    """

    name: str
    schemas: frozenset[str]


async def create_template_database(server_dsn: str) -> TemplateDatabase:
    """Migrate the event store, the read models, the vault and the outbox into a new database.

    Nothing stays connected to it: PostgreSQL copies a template only while nobody is.
    """
    dsn = await create_database(server_dsn, "template")
    store = await PostgresEventStore.connect(dsn, min_size=1, max_size=2)
    try:
        await migrate_read_models(store.pool)  # and the vault's schema
        await migrate_outbox(store.pool)
        schemas = await store.pool.fetch(_OTHER_SCHEMAS, [])
    finally:
        await store.close()
    return TemplateDatabase(
        urlsplit(dsn).path.lstrip("/"), frozenset(row["schema"] for row in schemas)
    )


async def clear_database(dsn: str, template: TemplateDatabase) -> None:
    """Make a copy of ``template`` that tests used as fresh as a new copy.

    Every row goes but the migration records, sequences restart (global positions count from
    1 again), and schemas the template lacks are dropped. DELETE rather than TRUNCATE: on
    tables this small it costs a fifth (TRUNCATE makes new files for every table and index).
    Foreign keys and triggers are not consulted (``session_replication_role``), so the order
    of the tables does not matter. The tests before must have ended their transactions:
    rather than wait for them, this fails after ``lock_timeout``.
    """
    connection = await asyncpg.connect(dsn)
    try:
        kept = sorted(template.schemas)
        extra = await connection.fetch(_OTHER_SCHEMAS, kept)
        tables = await connection.fetch(_TABLES, kept)
        sequences = await connection.fetch(_SEQUENCES, kept)
        statements = [
            "SET LOCAL lock_timeout = '20s'",
            "SET LOCAL session_replication_role = replica",
            *(f"DROP SCHEMA {row['name']} CASCADE" for row in extra),
            *(f"DELETE FROM {row['name']}" for row in tables),
            *(f"ALTER SEQUENCE {row['name']} RESTART" for row in sequences),
        ]
        async with connection.transaction():
            await connection.execute(";\n".join(statements))
    finally:
        await connection.close()


_OTHER_SCHEMAS = """
    SELECT nspname AS schema, quote_ident(nspname) AS name FROM pg_namespace
    WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
        AND NOT nspname = ANY($1::text[])
"""
_TABLES = """
    SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
    WHERE schemaname = ANY($1::text[]) AND tablename <> 'schema_migrations'
"""
_SEQUENCES = """
    SELECT format('%I.%I', schemaname, sequencename) AS name FROM pg_sequences
    WHERE schemaname = ANY($1::text[])
"""


def new_event(
    event_type: str = "TestHappened",
    *,
    data: dict[str, Any] | None = None,
    correlation_id: str = "test",
) -> NewEvent:
    """An event with a fresh id, for store tests that do not care about its meaning."""
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
        data=data if data is not None else {"value": 1},
    )


def unique_stream(stream_type: str = "mentorship") -> str:
    """A stream id no other test uses."""
    return f"{stream_type}-test-{uuid.uuid4().hex[:10]}"


async def open_vault(pool: asyncpg.Pool) -> PersonalDataVault:
    """The vault over ``pool`` with the session's master keys (from the environment)."""
    return await PersonalDataVault.create(pool, load_settings().master_keyring())


async def fail_while_waiting_for_a_lock(dsn: str, operation: Awaitable[T]) -> BaseException:
    """What ``operation`` raises when its server session is terminated while it waits.

    The caller holds a lock ``operation`` needs (in another session), so the operation waits
    on it; once `pg_stat_activity` shows a session of the database waiting for a lock, that
    session is terminated as an administrator (or a failover) would. No sleeping: the lock
    keeps the operation where it is until the termination.
    """
    task = asyncio.ensure_future(operation)
    admin = await asyncpg.connect(dsn)
    try:
        waiting = await assert_eventually(
            lambda: admin.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ),
            lambda pid: pid is not None,
            timeout=30,
            message="the operation waits for the lock",
        )
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", waiting)
    finally:
        await admin.close()
    try:
        await task
    except Exception as error:
        return error
    raise AssertionError("the operation succeeded although its session was terminated")
