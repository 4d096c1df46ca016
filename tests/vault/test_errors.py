"""The vault raises the event store's kinds of database errors, from a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from eventstore import (
    DatabaseSettings,
    DatabaseUnavailable,
    DataRejected,
    Pool,
    create_pool,
)
from mentorflow.keyring import KeyRing
from tests.support import create_database, fail_while_waiting_for_a_lock
from vault import PersonalDataVault


@pytest.fixture
async def database(postgres_server_url: str) -> AsyncIterator[tuple[str, Pool]]:
    url = await create_database(postgres_server_url, "vault_errors")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=2))
    try:
        yield url, pool
    finally:
        await pool.close()


async def test_a_key_creation_cut_off_by_the_server_is_unavailable(
    database: tuple[str, Pool],
) -> None:
    url, pool = database
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))
    holder = await asyncpg.connect(url)
    try:
        # The person's lock, as a concurrent forgetting holds it: key creation waits for it.
        await holder.execute("SELECT pg_advisory_lock(hashtextextended('vault:person:p-9', 0))")

        error = await fail_while_waiting_for_a_lock(url, vault.sealing_keys(["p-9"]))
    finally:
        await holder.close()

    assert isinstance(error, DatabaseUnavailable)
    assert "p-9" not in str(error)
    # The server is still there: the next call creates the key.
    assert (await vault.sealing_keys(["p-9"]))["p-9"] is not None


async def test_a_person_id_postgresql_cannot_hold_is_rejected_not_retried(
    database: tuple[str, Pool],
) -> None:
    _, pool = database
    vault = await PersonalDataVault.create(pool, KeyRing.generate("m1"))

    with pytest.raises(DataRejected) as rejected:
        await vault.opening_keys(["p-\x00-1"])  # text cannot hold NUL

    assert rejected.value.sqlstate.startswith("22")
    assert "\x00" not in str(rejected.value)
