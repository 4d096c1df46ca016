"""The API's read-model queries: a database away or not migrated yet is a 503 (real server)."""

from __future__ import annotations

import asyncpg
import pytest

from eventstore import DatabaseSettings, create_pool
from mentorflow.api.errors import ServiceUnavailable
from mentorflow.api.read_models import find_relationship, running_mentorships
from projections import migrate_read_models
from tests.support import create_database, fail_while_waiting_for_a_lock


async def test_read_models_not_migrated_yet_are_unavailable(postgres_server_url: str) -> None:
    pool = await create_pool(DatabaseSettings(await create_database(postgres_server_url, "rm")))
    try:
        with pytest.raises(ServiceUnavailable, match="UndefinedTableError"):
            await find_relationship(pool, "mentorship-c-1-p-1")
    finally:
        await pool.close()


async def test_a_query_cut_off_by_the_server_is_unavailable(postgres_server_url: str) -> None:
    url = await create_database(postgres_server_url, "rm")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=1))
    holder = await asyncpg.connect(url)
    try:
        await migrate_read_models(pool)
        # A rebuild swapping tables in holds them exclusively: the query waits.
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("LOCK TABLE read_models.mentorship_overview IN ACCESS EXCLUSIVE MODE")

        error = await fail_while_waiting_for_a_lock(url, running_mentorships(pool, "c-1"))
        await transaction.rollback()

        assert isinstance(error, ServiceUnavailable)
        assert await running_mentorships(pool, "c-1") == []  # back for the next request
    finally:
        await holder.close()
        await pool.close()
