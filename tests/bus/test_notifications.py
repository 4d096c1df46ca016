"""The store's NOTIFY trigger and the relay's dedicated LISTEN connection."""

from __future__ import annotations

from typing import TypeVar

import asyncpg

from bus import APPENDED_CHANNEL, AppendNotifications
from eventstore import PostgresEventStore
from tests.support import assert_eventually, new_event, unique_stream

T = TypeVar("T")

LISTENERS = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
"""


async def test_an_append_notifies_once_it_commits(
    store: PostgresEventStore, database_url: str
) -> None:
    notifications = AppendNotifications(database_url)
    await notifications.start()
    try:
        assert notifications.listening
        notifications.clear()
        await store.append(unique_stream(), 0, [new_event(), new_event()])
        assert await notifications.wait(timeout=10)
    finally:
        await notifications.close()


async def test_the_trigger_notifies_the_channel_the_relay_listens_on(
    store: PostgresEventStore, database_url: str
) -> None:
    received: list[str] = []
    connection = await asyncpg.connect(database_url)
    try:
        await connection.add_listener(
            APPENDED_CHANNEL, lambda _connection, _pid, channel, _payload: received.append(channel)
        )
        await store.append(unique_stream(), 0, [new_event()])
        await assert_eventually(lambda: _value(received), timeout=10)
    finally:
        await connection.close()
    assert received == [APPENDED_CHANNEL]


async def test_listening_resumes_after_the_connection_is_killed(
    store: PostgresEventStore, database_url: str
) -> None:
    notifications = AppendNotifications(database_url)
    await notifications.start()
    try:
        [first_pid] = [row["pid"] for row in await store.pool.fetch(LISTENERS)]
        await store.pool.execute("SELECT pg_terminate_backend($1)", first_pid)

        await assert_eventually(
            lambda: _listener_pids(store),
            lambda pids: bool(pids) and first_pid not in pids,
            timeout=30,
        )
        await assert_eventually(lambda: _value(notifications.listening), timeout=10)
        notifications.clear()
        await store.append(unique_stream(), 0, [new_event()])
        assert await notifications.wait(timeout=10)
    finally:
        await notifications.close()


async def _listener_pids(store: PostgresEventStore) -> list[int]:
    return [row["pid"] for row in await store.pool.fetch(LISTENERS)]


async def _value(value: T) -> T:
    return value
