"""The relay's rules, with in-memory collaborators: fast and deterministic."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

import asyncpg
import nats.errors
import pytest
import structlog
from faststream.nats import PubAck
from structlog.testing import capture_logs

from bus import BusConfig, EventRelay, RelayOptions, UnpublishableEvent, subject_for
from bus import relay as relay_module
from events import EventEnvelope
from eventstore import Position, StoredEvent
from tests.bus.fakes import MemoryCheckpoints, MemoryStore, RecordingPublisher, stored_event
from tests.support import assert_eventually

T = TypeVar("T")
QUICK = RelayOptions(page_size=4, poll_interval=0.01, retry_initial=0.001, retry_maximum=0.01)


@contextlib.asynccontextmanager
async def _running(relay: EventRelay) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_every_event_is_published_in_order_and_the_checkpoint_follows_per_page() -> None:
    events = [stored_event(position) for position in range(1, 11)]
    publisher, checkpoints = RecordingPublisher(), MemoryCheckpoints()
    relay = EventRelay(MemoryStore(events), publisher, checkpoints, options=QUICK)

    async with _running(relay):
        await assert_eventually(lambda: _get(checkpoints.position), lambda p: p == Position(10, 10))

    assert publisher.stored == [str(event.event_id) for event in events]
    assert checkpoints.saved == [Position(4, 4), Position(8, 8), Position(10, 10)]


async def test_the_checkpoint_never_passes_an_unacknowledged_event() -> None:
    events = [stored_event(position) for position in range(1, 9)]
    fifth = events[4].event_id

    failures_left = 2

    def fail_fifth_twice(envelope: EventEnvelope, _attempt: int) -> BaseException | None:
        nonlocal failures_left
        if envelope.event_id == fifth and failures_left:
            failures_left -= 1
            return nats.errors.TimeoutError()
        return None

    publisher, checkpoints = RecordingPublisher(fail_fifth_twice), MemoryCheckpoints()
    relay = EventRelay(MemoryStore(events), publisher, checkpoints, options=QUICK)

    async with _running(relay):
        await assert_eventually(lambda: _get(checkpoints.position), lambda p: p == Position(8, 8))

    # Page 5..8: 5 failed twice, so the checkpoint waited at 4 and 6..8 went out again.
    assert checkpoints.saved == [Position(4, 4), Position(8, 8)]
    assert sorted(publisher.stored) == sorted(str(event.event_id) for event in events)
    assert relay.stats.retries == 2
    assert relay.stats.duplicates == 3  # the last attempt found 6..8 stored by the earlier ones


async def test_a_relay_resumes_from_its_checkpoint() -> None:
    events = [stored_event(position) for position in range(1, 7)]
    publisher = RecordingPublisher()
    checkpoints = MemoryCheckpoints(Position(3, 3))
    relay = EventRelay(MemoryStore(events), publisher, checkpoints, options=QUICK)

    async with _running(relay):
        await assert_eventually(lambda: _get(checkpoints.position), lambda p: p == Position(6, 6))

    assert publisher.stored == [str(event.event_id) for event in events[3:]]


async def test_an_event_that_cannot_be_a_subject_stops_the_relay_instead_of_being_skipped() -> None:
    events = [stored_event(1), stored_event(2, event_type="Goal Set"), stored_event(3)]
    checkpoints = MemoryCheckpoints()

    class SubjectCheckingPublisher(RecordingPublisher):
        async def publish(self, envelope: EventEnvelope) -> PubAck:
            subject_for(envelope, BusConfig().subject_prefix)
            return await super().publish(envelope)

    relay = EventRelay(MemoryStore(events), SubjectCheckingPublisher(), checkpoints, options=QUICK)

    with pytest.raises(UnpublishableEvent) as raised:
        await asyncio.wait_for(relay.run(asyncio.Event()), 10)

    assert raised.value.event_type == "Goal Set"
    assert checkpoints.position == Position.START  # 1 was in the same page: sent again later


async def test_logs_name_events_but_never_carry_their_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "my manager undermines me in every meeting"
    events = [stored_event(1, event_type="ConversationHeld", data={"notes": secret})]

    def fail_once(_envelope: EventEnvelope, attempt: int) -> BaseException | None:
        return nats.errors.NoServersError() if attempt == 1 else None

    publisher, checkpoints = RecordingPublisher(fail_once), MemoryCheckpoints()
    relay = EventRelay(MemoryStore(events), publisher, checkpoints, options=QUICK)

    with capture_logs() as logs:
        # A fresh logger: the module's may be cached with the processors of an earlier test.
        monkeypatch.setattr(relay_module, "log", structlog.get_logger(relay_module.__name__))
        async with _running(relay):
            await assert_eventually(
                lambda: _get(checkpoints.position), lambda p: p == Position(1, 1)
            )

    failures = [entry for entry in logs if entry["event"] == "relay_publish_failed"]
    assert failures
    assert failures[0]["event_id"] == str(events[0].event_id)
    assert failures[0]["event_type"] == "ConversationHeld"
    assert secret not in repr(logs)


async def _get(value: T) -> T:
    return value


class _FailingOnce(MemoryStore):
    """Raises ``error`` on the first read, then reads normally."""

    def __init__(self, events: list[StoredEvent], error: BaseException) -> None:
        super().__init__(events)
        self.error: BaseException | None = error

    async def read_all(
        self, after: Position = Position.START, limit: int = 1000
    ) -> list[StoredEvent]:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return await super().read_all(after, limit)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InternalClientError("cannot switch to state 15"),  # lacked here until issue 12
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        OSError("connection refused"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_a_database_error_the_store_calls_transient_is_retried(error: Exception) -> None:
    events = [stored_event(position) for position in range(1, 4)]
    publisher, checkpoints = RecordingPublisher(), MemoryCheckpoints()
    relay = EventRelay(_FailingOnce(events, error), publisher, checkpoints, options=QUICK)

    async with _running(relay) as task:
        await assert_eventually(lambda: _get(checkpoints.position), lambda p: p == Position(3, 3))
        assert not task.done()


async def test_a_database_error_that_is_not_transient_stops_the_relay() -> None:
    relay = EventRelay(
        _FailingOnce([], asyncpg.UndefinedTableError("relation does not exist")),
        RecordingPublisher(),
        MemoryCheckpoints(),
        options=QUICK,
    )

    with pytest.raises(asyncpg.UndefinedTableError):
        await asyncio.wait_for(relay.run(asyncio.Event()), 10)
