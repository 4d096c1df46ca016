"""The projector: each projection tails the event store from its own position.

Guarantees:

- **Safe order, nothing skipped.** A projection reads `PostgresEventStore.read_all` after its
  position (the store's safe tailing order, see `eventstore.postgres`), a page at a time. The
  page's rows, per-stream states and checkpoints and the projection's new position are
  written in one transaction (`projections.writer`): a runner killed at any point restarts
  from a position whose events all took effect, once.
- **Prompt, without depending on it.** It wakes on the store's ``LISTEN`` notifications
  (`eventstore.notifications`, the relay's machinery) and polls every ``poll_interval`` as
  well: a notification can be missed, or arrive while the horizon still hides the event.
- **Stops at a failing event.** A page that fails is applied again one event at a time; the
  events before the culprit commit, and the projection stays at the culprit, retrying with
  backoff. Its row in ``read_models.positions`` names the event and the error (ids and
  error classes only, never personal text): `mentorflow projections status` and ``/readyz``
  show it as stalled. An operator may skip it (`skip_event`), which is recorded. A database
  that is away (`eventstore.errors.DatabaseUnavailable`) is waited out, not recorded.
- **One active runner per projection.** A runner works on a projection only while it holds
  the projection's session-level advisory lock, on a dedicated connection. Other projector
  processes wait for it and take over when the holder dies (its session, and the lock, end
  with it). Writers serialise on checkpoint rows anyway, so even two active runners (a lock
  connection lost while a transaction commits) could not apply an event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from events import CATALOG, EventCatalog
from eventstore import DatabaseUnavailable, Position, PostgresEventStore, StoredEvent
from eventstore.backoff import Backoff, sleep_unless_stopped
from eventstore.errors import translate
from eventstore.migrator import Connection
from eventstore.notifications import AppendNotifications, WakeFlag
from projections.base import Projection
from projections.errors import describe_error
from projections.folding import DecodeCache
from projections.metrics import RateMeter
from projections.registry import select_projections
from projections.schema import SCHEMA, migrate_read_models
from projections.writer import ProjectionWriter

logger = structlog.get_logger(__name__)

LOCK_PREFIX = "mentorflow:projection:"
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))"
_LOAD = f"""
SELECT transaction_id, global_position FROM {SCHEMA}.positions WHERE projection = $1
"""
_STALL = f"""
INSERT INTO {SCHEMA}.positions AS p (projection, stalled_event_id, stalled_error, stalled_since,
                                     stalled_attempts)
VALUES ($1, $2, $3, now(), 1)
ON CONFLICT (projection) DO UPDATE
SET stalled_event_id = excluded.stalled_event_id, stalled_error = excluded.stalled_error,
    stalled_since = CASE WHEN p.stalled_event_id = excluded.stalled_event_id
                         THEN p.stalled_since ELSE now() END,
    stalled_attempts = CASE WHEN p.stalled_event_id = excluded.stalled_event_id
                            THEN p.stalled_attempts + 1 ELSE 1 END
"""


@dataclass(frozen=True)
class RunnerOptions:
    """Tuning of the projector.

    Attributes:
        page_size: Events read and applied in one transaction.
        poll_interval: Seconds between reads when no notification arrives.
        retry_initial: First delay after a failure; it doubles up to ``retry_maximum``.
        retry_maximum: Longest delay between retries of a failing event.
        lock_interval: Seconds between attempts to become a projection's active runner.
        batch_window: Least seconds between two reads while events keep coming: under load
            a page then gathers what committed meanwhile, instead of one transaction per
            notification (each wakes every projection). It bounds the latency it adds.
    """

    page_size: int = 1000
    poll_interval: float = 1.0
    retry_initial: float = 0.5
    retry_maximum: float = 60.0
    lock_interval: float = 1.0
    batch_window: float = 0.01


class SharedReads:
    """`read_all` for the runners of one process: runners reading the same page share a query.

    Runners wake on the same notifications and mostly stand at the same position, so each
    wake-up would otherwise read the same page once per projection. A runner joins a read
    in flight only if it started after the runner's `mark` (taken when it cleared its wake-up
    flag): an older read might miss the commit that woke it.
    """

    def __init__(self, store: PostgresEventStore) -> None:
        self.store = store
        self._started = 0
        self._reads: dict[tuple[Position, int], tuple[int, asyncio.Future[list[StoredEvent]]]] = {}

    def mark(self) -> int:
        """Reads started so far; pass it to `read_all` to join only reads started later."""
        return self._started

    async def read_all(self, after: Position, limit: int, since: int) -> list[StoredEvent]:
        """``store.read_all(after, limit)``, or the same read started after ``since``."""
        key = (after, limit)
        entry = self._reads.get(key)
        if entry is None or entry[0] <= since:
            self._started += 1
            future = asyncio.ensure_future(self.store.read_all(after, limit))
            entry = self._reads[key] = (self._started, future)
            future.add_done_callback(functools.partial(self._done, key, entry))
        return await asyncio.shield(entry[1])

    def _done(
        self,
        key: tuple[Position, int],
        entry: tuple[int, asyncio.Future[list[StoredEvent]]],
        future: asyncio.Future[list[StoredEvent]],
    ) -> None:
        if self._reads.get(key) is entry:
            del self._reads[key]
        if not future.cancelled():
            future.exception()  # retrieved: whoever awaited it has it, nobody else needs it


class _LockLost(Exception):
    """The connection holding the projection's lock ended: another runner may take over."""


class ProjectionRunner:
    """Tails the store into one projection's read model; see the module docstring.

    Args:
        projection: The projection.
        store: The event store; its pool holds the read models too.
        options: Page size, polling and retry timing.
        meter: Counts applied events (for logs and status).
        wake_ups: Notifications of commits; without them the runner only polls.
        catalog: The event types it decodes.
        decoder: Decoded events shared with the process's other runners.
        reads: Reads of the store shared with the process's other runners.
    """

    def __init__(
        self,
        projection: Projection[Any],
        store: PostgresEventStore,
        *,
        options: RunnerOptions | None = None,
        meter: RateMeter | None = None,
        wake_ups: WakeFlag | None = None,
        catalog: EventCatalog = CATALOG,
        decoder: DecodeCache | None = None,
        reads: SharedReads | None = None,
    ) -> None:
        self.projection = projection
        self.reads = reads or SharedReads(store)
        self.store = store
        self.options = options or RunnerOptions()
        self.meter = meter or RateMeter()
        self.wake_ups = wake_ups
        self.writer = ProjectionWriter(projection, SCHEMA, catalog, decoder)
        self.log = logger.bind(projection=projection.name)
        self.position = Position.START

    @property
    def name(self) -> str:
        """The projection's name."""
        return self.projection.name

    async def load_position(self) -> Position:
        """Read the projection's saved position (`Position.START` when it never ran)."""
        row = await self.store.pool.fetchrow(_LOAD, self.name)
        self.position = (
            Position.START
            if row is None
            else Position(row["transaction_id"], row["global_position"])
        )
        return self.position

    async def catch_up(self) -> int:
        """Apply everything readable now from the saved position; return the events read.

        Raises:
            Exception: What the failing event raised (it is recorded as the stall first).
        """
        await self.load_position()
        read = 0
        while page := await self.store.read_all(self.position, self.options.page_size):
            await self.apply_page(page)
            read += len(page)
        return read

    async def apply_page(self, page: Sequence[StoredEvent]) -> None:
        """Apply ``page`` and move the position past it, in one transaction.

        When that fails, the events are applied one at a time: those before the culprit
        commit, the culprit is recorded as the stall and its error raised.
        """
        try:
            await self._apply(page)
            return
        except Exception as error:
            if isinstance(translate(error), DatabaseUnavailable) or len(page) == 1:
                await self._failed(page[0], error)
                raise
        for event in page:
            try:
                await self._apply([event])
            except Exception as error:
                await self._failed(event, error)
                raise

    async def _apply(self, events: Sequence[StoredEvent]) -> None:
        streams: dict[str, list[StoredEvent]] = {}
        handles = self.projection.handles
        for event in events:
            if handles(event.stream_id):
                streams.setdefault(event.stream_id, []).append(event)
        last = events[-1].position
        async with self.store.pool.acquire() as connection:
            if streams:
                async with connection.transaction():
                    batch = await self.writer.apply_streams(connection, streams, last)
                self.meter.add(sum(update.applied for update in batch.updates.values()))
            else:  # nothing of ours: only the position moves, in one statement
                await self.writer.apply_streams(connection, streams, last)
        self.position = last

    async def _failed(self, event: StoredEvent, error: Exception) -> None:
        if isinstance(translate(error), DatabaseUnavailable):
            return  # the database is away: nothing to record, and nowhere to record it
        with contextlib.suppress(Exception):
            await self.store.pool.execute(_STALL, self.name, event.event_id, describe_error(error))

    async def run(self, stop: asyncio.Event, lost: asyncio.Event | None = None) -> None:
        """Tail the store until ``stop`` (or ``lost``: the lock's connection ended) is set."""
        lost = lost or asyncio.Event()
        backoff = Backoff(self.options.retry_initial, self.options.retry_maximum)
        loaded = False
        while not stop.is_set():
            if lost.is_set():
                raise _LockLost
            try:
                if not loaded:
                    await self.load_position()
                    loaded = True
                    self.log.info("projection.active", position=str(self.position))
                if self.wake_ups is not None:
                    self.wake_ups.clear()  # before reading: a commit from now on wakes us
                since = self.reads.mark()
                read_at = time.monotonic()
                page = await self.reads.read_all(self.position, self.options.page_size, since)
                if page:
                    await self.apply_page(page)
                backoff.reset()
                if len(page) < self.options.page_size:
                    await self._idle(stop, lost)
                    if page:
                        await _pause(
                            self.options.batch_window - (time.monotonic() - read_at), stop, lost
                        )
            except Exception as error:
                delay = backoff.next_delay()
                transient = isinstance(translate(error), DatabaseUnavailable)
                self.log.warning(
                    "projection.database_unavailable" if transient else "projection.stalled",
                    position=str(self.position),
                    error_type=type(error).__name__,
                    error=None if transient else describe_error(error),
                    attempt=backoff.attempts,
                    retry_in=round(delay, 2),
                )
                loaded = False  # read the position again: a rebuild may have moved it
                await _pause(delay, stop, lost)

    async def _idle(self, stop: asyncio.Event, lost: asyncio.Event) -> None:
        if self.wake_ups is None:
            await _pause(self.options.poll_interval, stop, lost)
        else:
            await _pause(self.options.poll_interval, stop, lost, self.wake_ups.event)


def _set(event: asyncio.Event, *_args: object) -> None:
    event.set()


async def _pause(delay: float, *events: asyncio.Event) -> None:
    """Sleep ``delay`` seconds, or until one of ``events`` is set."""
    waits = {asyncio.ensure_future(event.wait()) for event in events}
    try:
        await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


async def hold_projection(
    runner: ProjectionRunner, dsn: str, stop: asyncio.Event, options: RunnerOptions
) -> None:
    """Become the projection's active runner when its lock is free; run until ``stop``.

    The lock is session-level, on a connection of its own (never a pooled one: the lock
    must end exactly when this process's session does, and pooled connections are shared).
    """
    log = runner.log
    backoff = Backoff(options.retry_initial, options.retry_maximum)
    waiting_logged = False
    while not stop.is_set():
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(
                dsn,
                timeout=10,
                # Who holds which projection, for operators (and tests) reading pg_stat_activity.
                server_settings={"application_name": f"mentorflow-projector:{os.getpid()}"},
            )
            lost = asyncio.Event()
            connection.add_termination_listener(functools.partial(_set, lost))
            while not stop.is_set() and not lost.is_set():
                if await connection.fetchval(_TRY_LOCK, LOCK_PREFIX + runner.name):
                    break
                if not waiting_logged:
                    log.info("projection.standby")
                    waiting_logged = True
                await sleep_unless_stopped(stop, options.lock_interval)
            else:
                continue
            waiting_logged = False
            backoff.reset()
            watchdog = asyncio.create_task(_watch(connection, lost, options.lock_interval))
            try:
                await runner.run(stop, lost)
            finally:
                watchdog.cancel()
        except Exception as error:
            if not isinstance(error, _LockLost) and not isinstance(
                translate(error), DatabaseUnavailable
            ):
                raise
            delay = backoff.next_delay()
            log.warning(
                "projection.lock_lost", error_type=type(error).__name__, retry_in=round(delay, 2)
            )
            await sleep_unless_stopped(stop, delay)
        finally:
            if connection is not None:
                connection.terminate()


async def _watch(connection: Connection, lost: asyncio.Event, interval: float) -> None:
    """Notice a lock connection that died quietly (no termination callback): ping it."""
    while not lost.is_set():
        await asyncio.sleep(interval)
        try:
            await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=max(interval, 5.0))
        except Exception:
            lost.set()


async def run_projector(
    store: PostgresEventStore,
    dsn: str,
    stop: asyncio.Event,
    projections: Sequence[Projection[Any]] | None = None,
    *,
    options: RunnerOptions | None = None,
    meter: RateMeter | None = None,
) -> None:
    """Run the projections until ``stop`` is set (or the task is cancelled).

    Migrates the read models, listens for appends, and runs every projection whose lock it
    gets; waits for the others. Cancelling is safe at any point: an interrupted transaction
    is rolled back and its page read again.

    Args:
        store: The event store (its pool holds the read models too).
        dsn: The store's database, for the listening and lock connections.
        stop: Ends the projector.
        projections: Which projections to run; all by default.
        options: Tuning.
        meter: Counts applied events across projections.
    """
    options = options or RunnerOptions()
    meter = meter or RateMeter()
    await migrate_read_models(store.pool)
    notifications = AppendNotifications(dsn)
    decoder, reads = DecodeCache(), SharedReads(store)
    runners = [
        ProjectionRunner(
            projection,
            store,
            options=options,
            meter=meter,
            wake_ups=notifications.subscribe(),
            decoder=decoder,
            reads=reads,
        )
        for projection in projections or select_projections()
    ]
    await notifications.start()
    logger.info("projector.started", projections=[runner.name for runner in runners])
    started = time.monotonic()
    try:
        await asyncio.gather(*(hold_projection(runner, dsn, stop, options) for runner in runners))
    finally:
        await notifications.close()
        logger.info(
            "projector.stopped", applied=meter.total, seconds=round(time.monotonic() - started)
        )
