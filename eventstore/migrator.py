"""Versioned SQL migrations, applied at start-up, idempotent, recorded in a table.

Each owner of a PostgreSQL schema (the event store, the projections) keeps numbered files
``NNNN_name.sql`` in a package folder. `migrate` applies the missing ones in order, each
recorded with a checksum in ``<schema>.schema_migrations``, all inside one transaction under
an advisory lock, so concurrent starters (worker, relay, api) neither race nor half-apply.

Why not alembic or yoyo: both bring SQLAlchemy or psycopg as a second driver for what is
forty lines over asyncpg, and neither runs on an asyncpg connection.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from eventstore.errors import MigrationChecksumMismatch, MigrationError

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection of its own or one borrowed from a pool."""

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(package: str, folder: str = "sql") -> list[Migration]:
    """Read ``NNNN_name.sql`` files of ``package/folder``, ordered by version."""
    migrations: list[Migration] = []
    for entry in resources.files(package).joinpath(folder).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        migrations.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version in {package}/{folder}")
    return migrations


async def migrate(connection: Connection, schema: str, migrations: list[Migration]) -> int:
    """Apply the missing migrations to ``schema``; return how many were applied."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise MigrationError(f"invalid schema name {schema!r}")
    applied_count = 0
    async with connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"migrations:{schema}"
        )
        await connection.execute(
            f"""
            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        rows = await connection.fetch(f"SELECT version, checksum FROM {schema}.schema_migrations")
        applied = {row["version"]: row["checksum"] for row in rows}
        await connection.execute(f"SET LOCAL search_path TO {schema}, public")
        for migration in migrations:
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationChecksumMismatch(schema, migration.version, migration.name)
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                f"INSERT INTO {schema}.schema_migrations (version, name, checksum) "
                "VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
            applied_count += 1
    return applied_count
