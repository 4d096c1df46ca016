"""Forgetting a person raises the event store's kinds of database errors (real server)."""

from __future__ import annotations

import asyncpg

from eventstore import DatabaseSettings, DatabaseUnavailable, PostgresEventStore, create_pool
from mentorflow.people import forget_person
from notifications import migrate_outbox
from projections import migrate_read_models
from tests.support import create_database, fail_while_waiting_for_a_lock, open_vault


async def test_forgetting_cut_off_by_the_server_is_unavailable_and_completes_when_repeated(
    postgres_server_url: str,
) -> None:
    url = await create_database(postgres_server_url, "forget_errors")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=2))
    holder = await asyncpg.connect(url)
    try:
        await PostgresEventStore.open(pool)
        await migrate_read_models(pool)
        await migrate_outbox(pool)  # forgetting erases the person's notification rows
        vault = await open_vault(pool)
        # Another forgetting of the same person holds their lock: this one waits for it.
        await holder.execute("SELECT pg_advisory_lock(hashtextextended('vault:person:p-5', 0))")

        error = await fail_while_waiting_for_a_lock(
            url, forget_person(pool, vault, "p-5", requested_by="test")
        )
        await holder.execute("SELECT pg_advisory_unlock_all()")

        assert isinstance(error, DatabaseUnavailable)
        outcome = await forget_person(pool, vault, "p-5", requested_by="test")
        assert not outcome.already_forgotten
    finally:
        await holder.close()
        await pool.close()
