"""The relay: every event of the store, in the store's safe tailing order, onto JetStream.

Guarantee: at least once on the bus, never a lost event, and in practice exactly once in
the stream thanks to JetStream's de-duplication by ``Nats-Msg-Id`` = ``event_id``.

- The relay reads pages with `EventStore.read_all` from its checkpoint, publishes each event
  and waits for JetStream's ack. Only then does the checkpoint move, to the last event of
  the acknowledged prefix of the page. A relay killed at any point restarts from its
  checkpoint and re-publishes at most the page it was working on; JetStream drops what it
  already stored.
- Checkpoint per page, not per event: an event's ack takes a round trip to NATS, a checkpoint
  write one to PostgreSQL. Publishing a page concurrently and writing one checkpoint for it
  keeps both off the per-event cost, and the price, re-publishing up to a page after a
  crash, is exactly what the duplicate window absorbs.
- NATS unreachable, stream missing, ack timeout: the relay keeps the unacknowledged rest of
  the page, backs off (logged) and retries it, re-checking the stream first; it never moves
  past an event JetStream has not acknowledged. The database unreachable: same, around the
  read and the checkpoint write.
- An event that can never be published (its type cannot be a subject token) stops the relay
  with `UnpublishableEvent` rather than skip it.
- Each event is published as a continuation of the trace stored with it (the appending
  span's W3C context, `StoredEvent.trace_context`): the message headers carry it on to the
  subscribers (`bus.tracing`).
- PostgreSQL stays the source of truth: resetting the checkpoint (`run_relay`'s
  ``start_from``) re-publishes from any position, e.g. after NATS lost acknowledged messages
  in a crash (it syncs its file store only periodically by default).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import nats.errors
import structlog
from faststream.nats import PubAck

from bus.backoff import Backoff, sleep_unless_stopped
from bus.tracing import continued_trace
from events import EventEnvelope
from eventstore import DatabaseUnavailable, Position, StoredEvent
from eventstore.errors import translate

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Worth retrying: the server or the network is away or slow. Anything else is a bug and
# stops the relay (its supervisor restarts it, and it resumes from its checkpoint). Which
# database errors are worth retrying, the event store says (`eventstore.errors.translate`).
PUBLISH_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, TimeoutError, OSError)


class _Stopped(Exception):
    """Raised inside the relay when ``stop`` is set while it waits to retry."""


class EventReader(Protocol):
    """What the relay reads: the event store's safe tailing order."""

    async def read_all(self, after: Position = ..., limit: int = ...) -> list[StoredEvent]:
        """The next page after ``after``."""
        ...


class EnvelopePublisher(Protocol):
    """What the relay publishes with (`bus.publishing.EventPublisher`)."""

    async def publish(self, envelope: EventEnvelope) -> PubAck:
        """Publish one event, return JetStream's ack."""
        ...


class Checkpoints(Protocol):
    """Where the relay keeps its position (`bus.checkpoints.RelayCheckpoints`)."""

    relay_name: str

    async def load(self) -> Position:
        """The saved position."""
        ...

    async def save(self, position: Position) -> None:
        """Save ``position``."""
        ...


class WakeUps(Protocol):
    """Notifications that events committed (`bus.notifications.AppendNotifications`)."""

    def clear(self) -> None:
        """Forget earlier notifications."""

    async def wait(self, timeout: float) -> bool:
        """Wait for a notification, at most ``timeout`` seconds."""
        ...


@dataclass(frozen=True)
class RelayOptions:
    """Tuning of the relay.

    Attributes:
        page_size: Events read, published concurrently and checkpointed together.
        poll_interval: Seconds between reads when no notification arrives.
        retry_initial: First delay after a failure; it doubles up to ``retry_maximum``.
        retry_maximum: Longest delay between retries.
    """

    page_size: int = 500
    poll_interval: float = 1.0
    retry_initial: float = 0.1
    retry_maximum: float = 10.0


@dataclass
class RelayStats:
    """What a relay did since it started.

    Attributes:
        published: Publishes JetStream acknowledged, duplicates included.
        duplicates: Of those, the ones JetStream already held (re-published after a crash,
            a retry or a reset).
        retries: Failed publishing attempts that were retried.
    """

    published: int = 0
    duplicates: int = 0
    retries: int = 0


class EventRelay:
    """Tails the store and publishes every event; see the module docstring.

    Args:
        store: The event store.
        publisher: Publishes one envelope and returns the ack.
        checkpoints: The relay's checkpoint.
        wake_ups: Notifications of commits; without them the relay only polls.
        prepare: Called before publishing and again before each retry, e.g. to make sure
            the stream exists; its failures count as failed publishes.
        options: Page size, polling and retry timing.
        stats: Counters to update (for callers that watch the relay); new ones by default.
    """

    def __init__(
        self,
        store: EventReader,
        publisher: EnvelopePublisher,
        checkpoints: Checkpoints,
        *,
        wake_ups: WakeUps | None = None,
        prepare: Callable[[], Awaitable[object]] | None = None,
        options: RelayOptions | None = None,
        stats: RelayStats | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._checkpoints = checkpoints
        self._wake_ups = wake_ups
        self._prepare = prepare
        self._options = options or RelayOptions()
        self._prepared = False
        self.position = Position.START
        self.stats = stats or RelayStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set. Cancelling instead is safe too, at any point."""
        try:
            self.position = await self._retrying_database(
                self._checkpoints.load, stop, "load_checkpoint"
            )
            log.info(
                "relay_started", relay=self._checkpoints.relay_name, position=str(self.position)
            )
            # Set the stream up before the first event, so consumers can bind to it early.
            if (error := await self._ensure_prepared()) is not None:
                log.warning("relay_prepare_failed", error_type=type(error).__name__)
            while not stop.is_set():
                if self._wake_ups is not None:
                    self._wake_ups.clear()  # before reading: a commit from now on wakes us
                page = await self._retrying_database(self._read_page, stop, "read_events")
                if page:
                    await self._relay_page(page, stop)
                if len(page) < self._options.page_size:
                    await self._idle(stop)
        except _Stopped:
            pass
        log.info(
            "relay_stopped",
            relay=self._checkpoints.relay_name,
            position=str(self.position),
            published=self.stats.published,
        )

    async def _read_page(self) -> list[StoredEvent]:
        return await self._store.read_all(self.position, self._options.page_size)

    async def _idle(self, stop: asyncio.Event) -> None:
        if self._wake_ups is None:
            await sleep_unless_stopped(stop, self._options.poll_interval)
            return
        stopped = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake_ups.wait(self._options.poll_interval))
        try:
            await asyncio.wait({stopped, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            woken.cancel()

    async def _relay_page(self, page: Sequence[StoredEvent], stop: asyncio.Event) -> None:
        """Publish ``page`` until all of it is acknowledged, moving the checkpoint along."""
        backoff = Backoff(self._options.retry_initial, self._options.retry_maximum)
        pending = list(page)
        while True:
            acknowledged, error = await self._publish(pending)
            if acknowledged:
                backoff.reset()
                position = pending[acknowledged - 1].position
                await self._retrying_database(
                    functools.partial(self._checkpoints.save, position), stop, "save_checkpoint"
                )
                self.position = position
                pending = pending[acknowledged:]
            if error is None:
                return
            self.stats.retries += 1
            self._prepared = False  # the stream may be gone: check it before the retry
            delay = backoff.next_delay()
            log.warning(
                "relay_publish_failed",
                event_id=str(pending[0].event_id),
                event_type=pending[0].event_type,
                stream_id=pending[0].stream_id,
                error_type=type(error).__name__,
                error=str(error),
                unacknowledged=len(pending),
                attempt=backoff.attempts,
                retry_in=round(delay, 2),
            )
            if await sleep_unless_stopped(stop, delay):
                raise _Stopped

    async def _publish(self, events: Sequence[StoredEvent]) -> tuple[int, BaseException | None]:
        """Publish concurrently; return the length of the acknowledged prefix and the error
        that ended it (None when all were acknowledged)."""
        if (error := await self._ensure_prepared()) is not None:
            return 0, error
        # Concurrently: the acks of a page come back in about one round trip, not one each.
        # Publishes are written to the connection in this order, so the stream keeps it.
        results = await asyncio.gather(
            *(self._publish_one(event) for event in events),
            return_exceptions=True,
        )
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                if not isinstance(result, PUBLISH_ERRORS):
                    raise result
                return index, result
            self.stats.published += 1
            if result.duplicate:
                self.stats.duplicates += 1
        log.debug("relay_page_published", events=len(events), position=str(events[-1].position))
        return len(events), None

    async def _publish_one(self, event: StoredEvent) -> PubAck:
        # Each publish runs in a task of its own (gather): the stored context is its alone.
        with continued_trace(event.trace_context):
            return await self._publisher.publish(event.envelope)

    async def _ensure_prepared(self) -> BaseException | None:
        """Run ``prepare`` unless it succeeded since the last failure; return its error."""
        if self._prepared or self._prepare is None:
            return None
        try:
            await self._prepare()
        except PUBLISH_ERRORS as error:
            return error
        self._prepared = True
        return None

    async def _retrying_database(
        self, operation: Callable[[], Awaitable[T]], stop: asyncio.Event, action: str
    ) -> T:
        """Run ``operation``, retrying while the database is unreachable."""
        backoff = Backoff(self._options.retry_initial, self._options.retry_maximum)
        while True:
            try:
                return await operation()
            except Exception as error:
                if not isinstance(translate(error), DatabaseUnavailable):
                    raise
                delay = backoff.next_delay()
                log.warning(
                    "relay_database_failed",
                    action=action,
                    error_type=type(error).__name__,
                    attempt=backoff.attempts,
                    retry_in=round(delay, 2),
                )
                if await sleep_unless_stopped(stop, delay):
                    raise _Stopped from error
