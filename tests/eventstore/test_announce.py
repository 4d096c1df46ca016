"""The wake-up notification after appends is best effort: its failures never surface."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from eventstore import PostgresEventStore
from tests.support import new_event, unique_stream


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionResetError(),
        asyncpg.InterfaceError("connection is closed"),
        # What asyncpg raises when the backend was terminated mid-statement (asyncpg#1069).
        asyncpg.InternalClientError("cannot switch to state 12; another operation is in progress"),
    ],
)
async def test_a_failed_wake_up_neither_fails_the_append_nor_closing(
    clean_database: str, failure: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await PostgresEventStore.connect(clean_database)
    real_execute = asyncpg.pool.Pool.execute
    notified: list[str] = []

    async def execute(pool: asyncpg.Pool, query: str, *args: Any, **kwargs: Any) -> str:
        if "pg_notify" in query:
            notified.append(query)
            raise failure
        return await real_execute(pool, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.pool.Pool, "execute", execute)
    stream = unique_stream()

    result = await store.append(stream, 0, [new_event()])
    await store.close()  # awaits the failed announcer: must not raise

    assert result.last_version == 1
    assert notified
