"""Versioned migrations: applied at start-up, idempotent, recorded, never edited in place."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from eventstore import (
    DatabaseUnavailable,
    MigrationChecksumMismatch,
    PostgresEventStore,
)
from eventstore.migrator import Migration, load_migrations, migrate
from tests.support import create_database


async def test_connect_applies_migrations_once_and_records_them(
    postgres_server_url: str,
) -> None:
    dsn = await create_database(postgres_server_url, "migrations")
    first = await PostgresEventStore.connect(dsn)
    try:
        assert await first.migrate() == 0  # already applied by connect
        rows = await first.pool.fetch(
            "SELECT version, name FROM eventstore.schema_migrations ORDER BY version"
        )
    finally:
        await first.close()

    expected = [(m.version, m.name) for m in load_migrations("eventstore")]
    assert [(row["version"], row["name"]) for row in rows] == expected


async def test_concurrent_starters_apply_each_migration_exactly_once(
    postgres_server_url: str,
) -> None:
    dsn = await create_database(postgres_server_url, "migrations")
    migrations = load_migrations("eventstore")
    connections = [await asyncpg.connect(dsn) for _ in range(5)]
    try:
        applied = await asyncio.gather(
            *(migrate(connection, "eventstore", migrations) for connection in connections)
        )
    finally:
        for connection in connections:
            await connection.close()

    assert sorted(applied) == [0, 0, 0, 0, len(migrations)]


async def test_an_applied_migration_edited_afterwards_is_refused(
    postgres_server_url: str,
) -> None:
    dsn = await create_database(postgres_server_url, "migrations")
    connection = await asyncpg.connect(dsn)
    try:
        await migrate(connection, "scratch", [Migration(1, "first", "CREATE TABLE t (a int)")])
        edited = [Migration(1, "first", "CREATE TABLE t (a bigint)")]

        with pytest.raises(MigrationChecksumMismatch) as raised:
            await migrate(connection, "scratch", edited)

        assert raised.value.version == 1
    finally:
        await connection.close()


async def test_a_failing_migration_leaves_nothing_half_applied(postgres_server_url: str) -> None:
    dsn = await create_database(postgres_server_url, "migrations")
    connection = await asyncpg.connect(dsn)
    try:
        broken = [
            Migration(1, "good", "CREATE TABLE kept_only_if_all_pass (a int)"),
            Migration(2, "bad", "CREATE TABLE broken (a no_such_type)"),
        ]
        with pytest.raises(asyncpg.UndefinedObjectError):
            await migrate(connection, "scratch", broken)

        exists = await connection.fetchval("SELECT to_regclass('scratch.kept_only_if_all_pass')")
        assert exists is None
    finally:
        await connection.close()


async def test_unreachable_database_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(DatabaseUnavailable) as raised:
        await PostgresEventStore.connect(
            "postgresql://postgres:s3cret@127.0.0.1:1/mentorflow", timeout=2
        )

    message = str(raised.value)
    assert "127.0.0.1:1" in message
    assert "unreachable" in message
    assert "s3cret" not in message
