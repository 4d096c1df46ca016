"""`create_pool`: the one way to open a pool, and the adapters' translation on a real server."""

from __future__ import annotations

import socket

import asyncpg
import pytest

from eventstore import (
    DatabaseSettings,
    DatabaseUnavailable,
    DataRejected,
    PostgresEventStore,
    create_pool,
)
from eventstore.errors import is_missing_relation, translated
from eventstore.pool import STORE_SESSION_SETTING
from tests.support import create_database, fail_while_waiting_for_a_lock


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_pool_has_the_stores_session_settings_and_sizes(postgres_server_url: str) -> None:
    url = await create_database(postgres_server_url, "pool")
    pool = await create_pool(
        DatabaseSettings(
            url,
            min_size=3,
            max_size=4,
            idle_in_transaction_timeout_ms=12_345,
            application_name="pool-test",
        )
    )
    try:
        row = await pool.fetchrow(
            "SELECT current_setting('application_name') AS name, "
            "current_setting('idle_in_transaction_session_timeout') AS idle, "
            "current_setting($1) AS appends_take_lock, "
            "pg_typeof('{}'::jsonb)::text AS type, '{\"a\": 1}'::jsonb AS document",
            STORE_SESSION_SETTING[0],
        )
        assert row is not None
        assert (row["name"], row["idle"]) == ("pool-test", "12345ms")
        assert row["appends_take_lock"] == STORE_SESSION_SETTING[1]
        assert row["document"] == '{"a": 1}'  # jsonb as text, as the store reads it
        assert (pool.get_min_size(), pool.get_max_size(), pool.get_size()) == (3, 4, 3)
    finally:
        await pool.close()


async def test_a_store_opened_on_a_pool_migrates_and_leaves_the_pool_to_its_owner(
    postgres_server_url: str,
) -> None:
    pool = await create_pool(DatabaseSettings(await create_database(postgres_server_url, "pool")))
    try:
        store = await PostgresEventStore.open(pool)
        await store.close()
        assert await pool.fetchval("SELECT count(*) FROM eventstore.events") == 0
        assert not pool.is_closing()
    finally:
        await pool.close()


async def test_an_unreachable_database_is_unavailable_and_the_password_stays_out() -> None:
    settings = DatabaseSettings(
        f"postgresql://someone:hunter2-secret@127.0.0.1:{_unused_port()}/nowhere",
        connect_timeout=5,
    )

    with pytest.raises(DatabaseUnavailable) as raised:
        await create_pool(settings)

    assert "hunter2-secret" not in str(raised.value)
    assert raised.value.address == settings.address
    assert ":***@" in settings.address


def test_pool_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="min_size"):
        DatabaseSettings("postgresql://localhost/x", min_size=5, max_size=2)


async def test_a_session_terminated_mid_statement_is_translated_to_unavailable(
    postgres_server_url: str,
) -> None:
    url = await create_database(postgres_server_url, "pool")
    pool = await create_pool(DatabaseSettings(url, min_size=1, max_size=1))
    holder = await asyncpg.connect(url)
    try:
        await holder.execute("SELECT pg_advisory_lock(4242)")

        async def wait_for_the_lock() -> None:
            with translated():
                await pool.execute("SELECT pg_advisory_lock(4242)")

        error = await fail_while_waiting_for_a_lock(url, wait_for_the_lock())

        assert isinstance(error, DatabaseUnavailable)
        assert isinstance(error.__cause__, asyncpg.PostgresError | asyncpg.InterfaceError)
    finally:
        await holder.close()
        await pool.close()


async def test_refused_data_is_rejected_and_a_missing_table_passes_as_it_is(
    postgres_server_url: str,
) -> None:
    pool = await create_pool(DatabaseSettings(await create_database(postgres_server_url, "pool")))
    try:
        await pool.execute("CREATE TABLE rated (stars integer CHECK (stars BETWEEN 1 AND 5))")
        with pytest.raises(DataRejected) as rejected, translated():
            await pool.execute("INSERT INTO rated VALUES (7)")
        assert (rejected.value.sqlstate, rejected.value.reason) == ("23514", "CheckViolationError")

        with pytest.raises(asyncpg.UndefinedTableError) as missing, translated():
            await pool.execute("SELECT * FROM read_models.nothing_here")
        assert is_missing_relation(missing.value)
    finally:
        await pool.close()
