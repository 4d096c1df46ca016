"""Waking store tailers (relay, projections) when events commit: LISTEN on its own connection.

The event store notifies ``eventstore_appended`` right after appends commit (coalesced, from
a separate statement: see `eventstore.postgres.PostgresEventStore`). A tailer listens on a
connection of its own, never one from the pool: LISTEN is session state, and pooled
connections are shared and deliberately not reset between users.

Notifications are a latency optimisation, never a correctness mechanism. A tailer always
reads from its checkpoint, and polls at a fixed interval as well, because a notification can
be missed (the connection was down) or can arrive while an older transaction still holds the
store's safe-tailing horizon back (the event is then not readable yet, and the wake-up that
makes it readable may be a poll, not a notification).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
import structlog

from eventstore.backoff import Backoff
from eventstore.errors import DatabaseUnavailable, translate
from eventstore.pool import redact_dsn
from eventstore.postgres import APPENDED_CHANNEL as STORE_APPENDED_CHANNEL

log = structlog.get_logger(__name__)

T = TypeVar("T")

APPENDED_CHANNEL = STORE_APPENDED_CHANNEL
"""The channel the event store notifies on."""


class WakeFlag:
    """One reader's wake-ups (`AppendNotifications.subscribe`): `clear`, read, then `wait`."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def clear(self) -> None:
        """Forget earlier wake-ups (call before reading)."""
        self.event.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait until a notification arrives or ``timeout`` passes; return whether one came."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        return self.event.is_set()


class AppendNotifications:
    """A wake-up flag set whenever events commit, kept alive across connection loss.

    Use `clear` before reading and `wait` after finding nothing new: a notification that
    arrives in between is then never lost.

    Args:
        dsn: The event store's database.
        channel: The channel to listen on.
    """

    def __init__(self, dsn: str, channel: str = APPENDED_CHANNEL) -> None:
        self._dsn = dsn
        self._channel = channel
        self._wake = asyncio.Event()
        self._subscribers: list[asyncio.Event] = []
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """Whether notifications currently arrive."""
        return self._listening.is_set()

    async def start(self, timeout: float = 5.0) -> None:
        """Start listening in the background; wait up to ``timeout`` for the first LISTEN.

        A database that is not reachable yet does not fail the start: the reader polls
        meanwhile, and listening begins as soon as the database is back.
        """
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name="append-notifications")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), timeout)

    async def close(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def clear(self) -> None:
        """Forget earlier wake-ups (call before reading)."""
        self._wake.clear()

    async def wait(self, timeout: float) -> bool:
        """Wait until a notification arrives or ``timeout`` passes; return whether one came."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        return self._wake.is_set()

    def subscribe(self) -> WakeFlag:
        """A wake-up flag of one's own, for several readers sharing one listening connection."""
        flag = WakeFlag()
        self._subscribers.append(flag.event)
        return flag

    def _on_notification(self, *_args: Any) -> None:
        self._wake.set()
        for event in self._subscribers:
            event.set()

    async def _listen_forever(self) -> None:
        backoff = Backoff(initial=0.2, maximum=10.0)
        while True:
            try:
                connection = await _connect(self._dsn)
            except DatabaseUnavailable as error:
                delay = backoff.next_delay()
                log.warning(
                    "listen_connect_failed",
                    database=redact_dsn(self._dsn),
                    error_type=type(error).__name__,
                    retry_in=round(delay, 2),
                )
                await asyncio.sleep(delay)
                continue
            try:
                await _translated(self._listen(connection))
                backoff.reset()
                log.warning("listen_connection_lost", channel=self._channel)
            except DatabaseUnavailable as error:
                log.warning("listen_failed", error_type=type(error).__name__)
                await asyncio.sleep(backoff.next_delay())
            finally:
                self._listening.clear()
                connection.terminate()

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self._channel, self._on_notification)
        self._listening.set()
        # Whatever committed while nobody listened: let the readers look once.
        self._on_notification()
        log.debug("listening", channel=self._channel)
        await lost.wait()


async def _connect(dsn: str) -> asyncpg.Connection:
    return await _translated(asyncpg.connect(dsn, timeout=5))


async def _translated(operation: Awaitable[T]) -> T:
    """Await ``operation``, raising what `eventstore.errors.translate` makes of its error.

    A refusal while connecting or listening (a bad password, a missing database) counts as
    unavailable here: the listener waits for an operator to fix it and polling goes on.
    """
    try:
        return await operation
    except Exception as error:
        translated = translate(error)
        if isinstance(translated, DatabaseUnavailable):
            raise translated from error
        if isinstance(error, asyncpg.PostgresError):
            raise DatabaseUnavailable("the database", type(error).__name__) from error
        raise
