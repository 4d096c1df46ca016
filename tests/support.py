"""Helpers shared by the tests: waiting on conditions, fresh databases, event factories."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from events import NewEvent
from mentorflow.settings import load_settings
from vault import PersonalDataVault

T = TypeVar("T")


async def assert_eventually(
    probe: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool] = bool,
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition not met",
) -> T:
    """Poll ``probe`` until ``predicate`` holds for its result; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if predicate(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} within {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)


def with_database(dsn: str, database: str) -> str:
    """``dsn`` pointing at another database of the same server."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


async def create_database(server_dsn: str, prefix: str = "test") -> str:
    """Create an empty database with a unique name; return its DSN."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(with_database(server_dsn, "postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return with_database(server_dsn, name)


def new_event(
    event_type: str = "TestHappened",
    *,
    data: dict[str, Any] | None = None,
    correlation_id: str = "test",
) -> NewEvent:
    """An event with a fresh id, for store tests that do not care about its meaning."""
    return NewEvent(
        event_id=uuid.uuid4(),
        event_type=event_type,
        schema_version=1,
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
        data=data if data is not None else {"value": 1},
    )


def unique_stream(stream_type: str = "mentorship") -> str:
    """A stream id no other test uses."""
    return f"{stream_type}-test-{uuid.uuid4().hex[:10]}"


async def open_vault(pool: asyncpg.Pool) -> PersonalDataVault:
    """The vault over ``pool`` with the session's master keys (from the environment)."""
    return await PersonalDataVault.create(pool, load_settings().master_keyring())


async def fail_while_waiting_for_a_lock(dsn: str, operation: Awaitable[T]) -> BaseException:
    """What ``operation`` raises when its server session is terminated while it waits.

    The caller holds a lock ``operation`` needs (in another session), so the operation waits
    on it; once `pg_stat_activity` shows a session of the database waiting for a lock, that
    session is terminated as an administrator (or a failover) would. No sleeping: the lock
    keeps the operation where it is until the termination.
    """
    task = asyncio.ensure_future(operation)
    admin = await asyncpg.connect(dsn)
    try:
        waiting = await assert_eventually(
            lambda: admin.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ),
            lambda pid: pid is not None,
            timeout=30,
            message="the operation waits for the lock",
        )
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", waiting)
    finally:
        await admin.close()
    try:
        await task
    except Exception as error:
        return error
    raise AssertionError("the operation succeeded although its session was terminated")
