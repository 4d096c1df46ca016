"""The test databases: one per module, copied from a migrated template, emptied per test."""

from __future__ import annotations

import asyncpg

from eventstore import PostgresEventStore
from tests.support import TemplateDatabase, clear_database, new_event, unique_stream


async def test_a_cleared_database_is_as_fresh_as_a_new_copy(
    clean_database: str, template_database: TemplateDatabase
) -> None:
    store = await PostgresEventStore.connect(clean_database)
    try:
        first = await store.append(unique_stream(), 0, [new_event(), new_event()])
        await store.pool.execute(
            "CREATE TABLE public.scratch (id int GENERATED ALWAYS AS IDENTITY, note text);"
            "INSERT INTO public.scratch (note) VALUES ('a'), ('b')"
        )
        await store.pool.execute("CREATE SCHEMA left_by_a_test")
        migrations = await store.pool.fetchval("SELECT count(*) FROM eventstore.schema_migrations")
    finally:
        await store.close()

    await clear_database(clean_database, template_database)

    connection = await asyncpg.connect(clean_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM eventstore.events") == 0
        assert await connection.fetchval("SELECT count(*) FROM public.scratch") == 0
        assert (
            await connection.fetchval("INSERT INTO public.scratch (note) VALUES ('c') RETURNING id")
            == 1
        )
        assert not await connection.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'left_by_a_test'"
        )
        assert (
            await connection.fetchval("SELECT count(*) FROM eventstore.schema_migrations")
            == migrations
            > 0
        )
    finally:
        await connection.close()
    store = await PostgresEventStore.connect(clean_database)
    try:
        again = await store.append(unique_stream(), 0, [new_event()])
    finally:
        await store.close()
    assert first.global_positions[0] == again.global_positions[0] == 1
