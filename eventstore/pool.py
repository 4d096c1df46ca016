"""The one way a process opens its PostgreSQL pool: `create_pool(settings)`.

Every pool on the event store's database is made here, with the store's session settings
(jsonb as text, no per-release reset, the append-lock setting that lets the store's own
inserts skip the events table's trigger, a bound on idle transactions), so the store, the
vault, the relay's checkpoints, the read models and the API share one kind of pool, and
usually one pool. The process that creates it closes it.

`Pool`, `Record` and `Connection` name the driver's types for the adapters that run SQL on
such a pool; outside `eventstore` nothing imports the driver (an import-linter contract), so
nothing outside it can name, and so catch, a driver exception: `eventstore.errors` translates
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from eventstore.errors import DRIVER_ERRORS, DatabaseUnavailable
from eventstore.migrator import Connection

__all__ = [
    "STORE_SESSION_SETTING",
    "Connection",
    "DatabaseSettings",
    "Pool",
    "Record",
    "create_pool",
    "redact_dsn",
]

Pool: TypeAlias = asyncpg.Pool
"""A pool from `create_pool`."""
Record: TypeAlias = asyncpg.Record
"""A row a query on the pool returns."""

STORE_SESSION_SETTING = ("mentorflow.appends_take_lock", "on")
"""Set on the pool's sessions: every INSERT into the events table they run takes
`APPENDING_LOCK` itself, so the table's trigger, which does it for other sessions, is skipped.
Only the store's statements may insert through these sessions."""


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """Where the database is and how large a pool a process keeps on it.

    Built by the composition root (``mentorflow.settings.Settings.database``); the event
    store cannot read the application's settings itself.

    Attributes:
        url: PostgreSQL URL (``postgresql://user:password@host:port/database``).
        min_size: Connections opened at start and kept.
        max_size: Most connections at once.
        connect_timeout: Seconds to wait for a connection (also for one from the pool).
        command_timeout: Seconds a statement may run before the driver gives up on it.
        idle_in_transaction_timeout_ms: The server ends a session that sits this long in an
            open transaction (an event-writing one holds tailing readers back).
        application_name: What ``pg_stat_activity`` shows for the sessions.
    """

    url: str
    min_size: int = 2
    max_size: int = 10
    connect_timeout: float = 10.0
    command_timeout: float = 60.0
    idle_in_transaction_timeout_ms: int = 60_000
    application_name: str = "mentorflow"

    def __post_init__(self) -> None:
        if not 0 <= self.min_size <= self.max_size or self.max_size < 1:
            raise ValueError(
                f"pool sizes must satisfy 0 <= min_size <= max_size, 1 <= max_size; "
                f"got {self.min_size} and {self.max_size}"
            )

    @property
    def address(self) -> str:
        """The URL without its password, for messages and logs."""
        return redact_dsn(self.url)


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


_CAUGHT: tuple[type[Exception], ...] = (OSError, TimeoutError, *DRIVER_ERRORS)


async def create_pool(settings: DatabaseSettings) -> Pool:
    """Open a pool with the store's session settings; the caller closes it.

    Raises:
        DatabaseUnavailable: PostgreSQL cannot be reached or refuses the connection (a wrong
            password included: the process can only wait for it to be fixed).
    """
    try:
        pool = await asyncpg.create_pool(
            settings.url,
            min_size=settings.min_size,
            max_size=settings.max_size,
            timeout=settings.connect_timeout,
            command_timeout=settings.command_timeout,
            max_inactive_connection_lifetime=300,
            init=_init_connection,
            reset=_keep_session,
            server_settings={
                "application_name": settings.application_name,
                "idle_in_transaction_session_timeout": str(settings.idle_in_transaction_timeout_ms),
                STORE_SESSION_SETTING[0]: STORE_SESSION_SETTING[1],
            },
        )
    except _CAUGHT as error:
        # Whatever stops the pool from opening (a server away, a wrong password, an unknown
        # database) leaves the process nothing to do but wait for it to be put right.
        raise DatabaseUnavailable(settings.address, str(error) or type(error).__name__) from error
    return pool


async def _init_connection(connection: asyncpg.Connection) -> None:
    # jsonb travels as text both ways: appenders already hold JSON text, and readers parse
    # it once with the C json module instead of asyncpg's generic path.
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=str, decoder=str, format="text"
    )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip the pool's per-release reset round trip (``RESET ALL; UNLISTEN *; …``).

    It doubled the cost of a single-event append. Nothing here leaves session state behind:
    the store and its users take transaction-scoped locks and ``SET LOCAL`` settings only,
    and LISTEN runs on dedicated connections, never on pooled ones.
    """
