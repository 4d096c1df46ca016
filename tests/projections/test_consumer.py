"""Settling deliveries, with a stand-in applier and messages (no servers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from nats.errors import NotJSMessageError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import ValidationError

from events import EventEnvelope
from projections import HandleResult, Outcome, ProjectorConfig
from projections.consumer import ProjectionConsumer, describe_error
from projections.jetstream import keep_partial_batches

CONFIG = ProjectorConfig(max_deliver=3, backoff=(0.5, 2.0), transient_retry_seconds=5.0)


class Message:
    """A JetStream message that records how it was settled."""

    def __init__(self, envelope: EventEnvelope | None, delivery: int = 1) -> None:
        self.data = b"not json" if envelope is None else envelope.model_dump_json().encode()
        self.subject = "mentorflow.events.mentorship.Test"
        self.headers = {"Nats-Msg-Id": "m-1"}
        self.delivery = delivery
        self.settled: list[tuple[str, float | None]] = []

    @property
    def metadata(self) -> Any:
        if self.delivery == 0:
            raise NotJSMessageError
        return type("Metadata", (), {"num_delivered": self.delivery})()

    async def ack(self) -> None:
        self.settled.append(("ack", None))

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append(("nak", delay))

    async def term(self) -> None:
        self.settled.append(("term", None))

    async def in_progress(self) -> None:
        self.settled.append(("in_progress", None))


class Applier:
    """Fails as told: a list of exceptions raised by successive calls, then succeeds."""

    name = "test_projection"

    def __init__(self, failures: Sequence[BaseException] = (), poison: str | None = None) -> None:
        self.failures = list(failures)
        self.poison = poison
        self.calls: list[int] = []

    async def handle_many(self, envelopes: Sequence[EventEnvelope]) -> HandleResult:
        self.calls.append(len(envelopes))
        if self.failures:
            raise self.failures.pop(0)
        if any(envelope.stream_id == self.poison for envelope in envelopes):
            raise ValueError("cannot apply")
        return HandleResult(Outcome.APPLIED, applied=len(envelopes))


def _envelope(stream_id: str = "mentorship-c-p-1") -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        event_type="Test",
        schema_version=1,
        stream_id=stream_id,
        stream_version=1,
        global_position=1,
        occurred_at=now,
        recorded_at=now,
        correlation_id="c",
        data={},
    )


def _consumer(applier: Applier) -> tuple[ProjectionConsumer, list[dict[str, str]]]:
    parked: list[dict[str, str]] = []

    async def park(body: bytes, headers: dict[str, str]) -> None:
        parked.append(headers)

    return ProjectionConsumer(applier, CONFIG, park), parked


async def test_a_batch_is_applied_at_once_and_every_message_acknowledged() -> None:
    applier = Applier()
    consumer, parked = _consumer(applier)
    messages = [Message(_envelope(f"mentorship-c-p-{index}")) for index in range(3)]

    await consumer.consume(messages)  # type: ignore[arg-type]

    assert applier.calls == [3]
    assert [message.settled for message in messages] == [[("ack", None)]] * 3
    assert parked == []


async def test_a_database_outage_is_waited_out_not_parked() -> None:
    applier = Applier(
        failures=[
            OSError("connection refused"),
            ConnectionResetError(),
            # A backend terminated mid-statement, as asyncpg reports it (asyncpg#1069).
            asyncpg.InternalClientError(
                "cannot switch to state 12; another operation is in progress"
            ),
        ]
    )
    consumer, parked = _consumer(applier)
    message = Message(_envelope())

    await consumer.consume([message])  # type: ignore[list-item]

    assert message.settled == [("in_progress", None)] * 3 + [("ack", None)]
    assert parked == []


async def test_a_poison_message_in_a_batch_fails_alone() -> None:
    applier = Applier(poison="mentorship-c-p-bad")
    consumer, parked = _consumer(applier)
    good, bad = Message(_envelope()), Message(_envelope("mentorship-c-p-bad"), delivery=2)

    await consumer.consume([good, bad])  # type: ignore[list-item]

    assert applier.calls == [2, 1, 1]
    assert good.settled == [("ack", None)]
    assert bad.settled == [("nak", 2.0)]  # the backoff before its third delivery
    assert parked == []


async def test_the_last_delivery_of_a_poison_message_is_parked_and_terminated() -> None:
    consumer, parked = _consumer(Applier())
    garbage = Message(None, delivery=3)

    await consumer.consume([garbage])  # type: ignore[list-item]

    assert garbage.settled == [("term", None)]
    (headers,) = parked
    assert headers["Mentorflow-Error-Type"] == "ValidationError"
    assert headers["Mentorflow-Deliveries"] == "3"
    assert headers["Nats-Msg-Id"] == "test_projection:m-1"


def test_dead_letter_errors_name_fields_but_never_quote_input() -> None:
    with pytest.raises(ValidationError) as raised:
        EventEnvelope.model_validate({"event_type": "my secret text", "stream_version": 0})

    description = describe_error(raised.value)

    assert "stream_version: Input should be greater than or equal to 1" in description
    assert "secret" not in description


def test_backoff_grows_then_repeats_its_last_delay() -> None:
    assert [CONFIG.delay_before(delivery) for delivery in (1, 2, 3, 9)] == [0.5, 2.0, 2.0, 2.0]
    assert CONFIG.subject(frozenset({"mentorship"})) == "mentorflow.events.mentorship.>"
    assert CONFIG.subject(frozenset({"cohort", "mentorship"})) == "mentorflow.events.>"


async def test_asyncio_timeouts_of_a_fetch_become_nats_timeouts() -> None:
    class Subscription:
        async def fetch(self, batch: int, timeout: float) -> list[object]:
            raise TimeoutError

    class JetStream:
        async def pull_subscribe(self, subject: str) -> Subscription:
            return Subscription()

    jetstream = JetStream()
    keep_partial_batches(jetstream)  # type: ignore[arg-type]
    keep_partial_batches(jetstream)  # type: ignore[arg-type]  # idempotent
    subscription = await jetstream.pull_subscribe("x")

    with pytest.raises(NatsTimeoutError):
        await subscription.fetch(10, timeout=0.1)
