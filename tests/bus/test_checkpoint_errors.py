"""The relay's checkpoints raise the event store's kinds of database errors (real server)."""

from __future__ import annotations

import asyncpg
import pytest

from bus.checkpoints import RelayCheckpoints, migrate_bus_schema
from eventstore import DatabaseSettings, DatabaseUnavailable, DataRejected, Position, create_pool
from tests.support import create_database, fail_while_waiting_for_a_lock


async def test_a_save_cut_off_by_the_server_is_unavailable_and_bad_data_rejected(
    postgres_server_url: str,
) -> None:
    url = await create_database(postgres_server_url, "checkpoints")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=2))
    holder = await asyncpg.connect(url)
    try:
        await migrate_bus_schema(pool)
        checkpoints = RelayCheckpoints(pool, "errors")
        await checkpoints.save(Position(1, 1))
        # Another relay of the same name is mid-save: the row is locked, this save waits.
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("SELECT 1 FROM bus.relay_checkpoints FOR UPDATE")

        error = await fail_while_waiting_for_a_lock(url, checkpoints.save(Position(2, 2)))
        await transaction.rollback()

        assert isinstance(error, DatabaseUnavailable)
        assert await checkpoints.load() == Position(1, 1)  # the server is back for the retry
        with pytest.raises(DataRejected):
            await RelayCheckpoints(pool, "bad\x00name").save(Position(3, 3))
    finally:
        await holder.close()
        await pool.close()
