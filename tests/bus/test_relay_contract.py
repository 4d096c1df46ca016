"""What an outside consumer sees: every event once, as the contract's envelope.

The subscriber here is written against the contract only (plain nats-py and json, no
project code): subject ``{prefix}.{stream_type}.{event_type}``, header ``Nats-Msg-Id`` =
``event_id``, body one JSON object with the envelope's fields.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from bus import BusConfig
from events import DomainEvent, NewEvent
from events.cohort import CohortLaunched
from events.mentorship import GoalSet, MentorshipMatched, OnboardingStarted, TrainingModuleCompleted
from eventstore import Position, PostgresEventStore
from tests.bus.support import last_position, relay_running
from tests.support import assert_eventually, new_event, unique_stream

ENVELOPE_FIELDS = {
    "event_id",
    "event_type",
    "schema_version",
    "stream_id",
    "stream_version",
    "global_position",
    "occurred_at",
    "recorded_at",
    "correlation_id",
    "causation_id",
    "data",
}
START = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


def _new(event: DomainEvent, correlation_id: str, causation_id: str | None = None) -> NewEvent:
    return NewEvent.from_domain(
        event,
        event_id=uuid.uuid4(),
        occurred_at=START,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


async def _append_scenario(store: PostgresEventStore) -> int:
    """A cohort launch and two relationships starting; returns the number of events."""
    cohort_id = f"c{uuid.uuid4().hex[:8]}"
    cohort_stream = f"cohort-{cohort_id}"
    launched = _new(
        CohortLaunched(
            cohort_id=cohort_id,
            program_name="Engineering Mentorship 2027",
            starts_at=START,
            ends_at=START + timedelta(days=300),
            participant_count=4,
        ),
        cohort_stream,
    )
    await store.append(cohort_stream, 0, [launched])
    count = 1
    for mentee in ("p-002", "p-004"):
        stream_id = f"mentorship-{cohort_id}-{mentee}"
        events = [
            MentorshipMatched(
                cohort_id=cohort_id, mentor_id="p-001", mentee_id=mentee, match_score=0.82
            ),
            OnboardingStarted(
                deadline=START + timedelta(days=21), training_modules=["active-listening"]
            ),
            TrainingModuleCompleted(person_id=mentee, module="active-listening"),
            GoalSet(
                goal_id="g-1",
                horizon="long",
                description="Lead a team of five — «ünïcode» included",
                motivation="Grow into engineering management",
            ),
        ]
        for version, event in enumerate(events):
            await store.append(
                stream_id, version, [_new(event, stream_id, causation_id=str(launched.event_id))]
            )
        count += len(events)
    return count


def _check_contract(message: Msg, prefix: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(message.data)
    assert set(body) == ENVELOPE_FIELDS
    assert str(uuid.UUID(body["event_id"])) == body["event_id"]
    assert message.headers is not None
    assert message.headers["Nats-Msg-Id"] == body["event_id"]
    assert message.headers["content-type"] == "application/json"
    stream_type = body["stream_id"].split("-", 1)[0]
    assert stream_type in {"cohort", "mentorship"}
    assert message.subject == f"{prefix}.{stream_type}.{body['event_type']}"
    assert isinstance(body["schema_version"], int)
    assert isinstance(body["stream_version"], int)
    assert body["stream_version"] >= 1
    assert isinstance(body["global_position"], int)
    for moment in ("occurred_at", "recorded_at"):
        assert datetime.fromisoformat(body[moment]).utcoffset() == timedelta(0)
    assert isinstance(body["correlation_id"], str)
    assert body["causation_id"] is None or isinstance(body["causation_id"], str)
    assert isinstance(body["data"], dict)
    assert "event_type" not in body["data"]
    return body


async def test_an_external_subscriber_receives_every_event_once_with_the_envelope(
    store: PostgresEventStore, database_url: str, bus_config: BusConfig, nats_client: Client
) -> None:
    expected = await _append_scenario(store)
    prefix = bus_config.subject_prefix
    received: list[Msg] = []

    async def collect(message: Msg) -> None:
        received.append(message)

    jetstream = nats_client.jetstream()
    async with relay_running(database_url, bus_config):
        await assert_eventually(
            lambda: _stream_exists(nats_client, bus_config.stream_name), timeout=30
        )
        subscription = await jetstream.subscribe(
            f"{prefix}.>",
            stream=bus_config.stream_name,
            cb=collect,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        await assert_eventually(_length(received), lambda n: n >= expected, timeout=30)
        await subscription.unsubscribe()

    bodies = [_check_contract(message, prefix) for message in received]
    assert len({body["event_id"] for body in bodies}) == expected == len(bodies)
    stored = {}
    for stream_id in {body["stream_id"] for body in bodies}:
        for envelope in await store.read_stream(stream_id):
            stored[str(envelope.event_id)] = json.loads(envelope.model_dump_json())
    assert {body["event_id"]: body for body in bodies} == stored
    # Within each stream, the bus carries the events in stream order.
    for stream_id in stored:
        versions = [body["stream_version"] for body in bodies if body["stream_id"] == stream_id]
        assert versions == sorted(versions)


async def test_republishing_from_the_start_adds_no_duplicate(
    store: PostgresEventStore, database_url: str, bus_config: BusConfig, nats_client: Client
) -> None:
    expected = await _append_scenario(store)
    end = await last_position(store)

    async with relay_running(database_url, bus_config):
        await assert_eventually(
            lambda: _last_sequence(nats_client, bus_config.stream_name),
            lambda sequence: sequence >= expected,
            timeout=30,
        )
    async with relay_running(database_url, bus_config, start_from=Position.START):
        await assert_eventually(
            lambda: _checkpoint(store), lambda position: position == end, timeout=30
        )

    info = await nats_client.jetstream().stream_info(bus_config.stream_name)
    assert info.state.messages == expected
    assert info.state.last_seq == expected  # nothing was stored and then dropped either


def _length(items: list[Msg]) -> Callable[[], Awaitable[int]]:
    async def probe() -> int:
        return len(items)

    return probe


async def _stream_exists(client: Client, stream_name: str) -> bool:
    try:
        await client.jetstream().stream_info(stream_name)
    except Exception:
        return False
    return True


async def _last_sequence(client: Client, stream_name: str) -> int:
    if not await _stream_exists(client, stream_name):
        return 0
    info = await client.jetstream().stream_info(stream_name)
    return info.state.last_seq


async def _checkpoint(store: PostgresEventStore) -> Position:
    row = await store.pool.fetchrow(
        "SELECT transaction_id, global_position FROM bus.relay_checkpoints "
        "WHERE relay_name = 'default'"
    )
    return Position.START if row is None else Position(row[0], row[1])


async def test_an_event_larger_than_one_megabyte_reaches_the_bus(
    store: PostgresEventStore, database_url: str, bus_config: BusConfig, nats_client: Client
) -> None:
    # A cohort of 10,000 mentees has a MatchingCompleted of about 1.5 MB.
    pairs = [
        {
            "mentor_id": f"p-{n}",
            "mentee_id": f"p-{n + 1}",
            "score": 0.5,
            "reasons": ["covers 3 of 4 wanted skills", "same career track: architecture"],
        }
        for n in range(12_000)
    ]
    event = new_event(
        "MatchingCompleted", data={"pairs": pairs, "unmatched": [], "total_score": 6000.0}
    )
    stream_id = unique_stream("cohort")
    await store.append(stream_id, 0, [event])
    assert len(json.dumps(event.data)) > 1_000_000

    async with relay_running(database_url, bus_config):
        await assert_eventually(
            lambda: _stream_exists(nats_client, bus_config.stream_name), timeout=30
        )
        subscription = await nats_client.jetstream().subscribe(
            f"{bus_config.subject_prefix}.cohort.>",
            stream=bus_config.stream_name,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        message = await subscription.next_msg(timeout=30)

    body = json.loads(message.data)
    assert body["event_id"] == str(event.event_id)
    assert len(body["data"]["pairs"]) == 12_000
