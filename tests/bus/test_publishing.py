"""Publishing envelopes: subjects, headers and body, with FastStream's in-memory TestNatsBroker.

Fast tests of the mapping; the real server's dedup and acks are tested elsewhere (the
in-memory broker emulates neither).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from faststream.nats import NatsMessage, TestNatsBroker

from bus import (
    MESSAGE_ID_HEADER,
    BusConfig,
    EventPublisher,
    UnpublishableEvent,
    create_broker,
    encode_envelope,
    event_subject,
    events_filter,
    events_jstream,
    stream_type_of,
    subject_for,
)
from events import EventEnvelope
from tests.bus.fakes import stored_event

CONFIG = BusConfig(stream_name="UNIT_EVENTS", subject_prefix="unit.events")


def test_subjects_follow_the_contract() -> None:
    assert stream_type_of("mentorship-eng-2027-q1-p-002-r1") == "mentorship"
    assert stream_type_of("cohort-eng-2027-q1") == "cohort"
    assert (
        event_subject("mentorship", "ConversationHeld")
        == "mentorflow.events.mentorship.ConversationHeld"
    )
    assert events_filter() == "mentorflow.events.>"
    assert events_filter(stream_type="cohort") == "mentorflow.events.cohort.*"
    assert events_filter(event_type="GoalSet") == "mentorflow.events.*.GoalSet"


def test_an_event_type_that_is_no_subject_token_is_unpublishable() -> None:
    envelope = stored_event(1, event_type="Goal.Set").envelope
    with pytest.raises(UnpublishableEvent, match="event type"):
        subject_for(envelope, "mentorflow.events")


def test_the_body_is_the_stored_envelope() -> None:
    stored = stored_event(7, data={"goal_id": "g-1", "note": "ünïcode — kept as is"})

    body = encode_envelope(stored.envelope)

    assert json.loads(body) == json.loads(stored.envelope.model_dump_json())
    assert EventEnvelope.model_validate_json(body) == EventEnvelope.model_validate(
        stored.envelope.model_dump()
    )


async def test_events_go_to_their_subject_with_the_message_id_and_a_json_body() -> None:
    broker = create_broker(CONFIG)
    publisher = EventPublisher(broker, CONFIG)
    received: list[tuple[str, dict[str, Any], EventEnvelope]] = []

    # A consumer as the projector would write it: FastStream parses the envelope for it.
    @broker.subscriber(events_filter(CONFIG.subject_prefix), stream=events_jstream(CONFIG))
    async def consume(envelope: EventEnvelope, message: NatsMessage) -> None:
        received.append((message.raw_message.subject, message.headers, envelope))

    known = stored_event(1, event_type="GoalAchieved").envelope
    unknown = stored_event(2, stream_id="cohort-c-1", event_type="SomethingNew").envelope
    async with TestNatsBroker(broker):
        await publisher.publish(known)
        await publisher.publish(unknown)

    subjects = [subject for subject, _, _ in received]
    assert subjects == [
        "unit.events.mentorship.GoalAchieved",
        "unit.events.cohort.SomethingNew",
    ]
    for (_, headers, envelope), sent in zip(received, (known, unknown), strict=True):
        assert headers[MESSAGE_ID_HEADER] == str(sent.event_id)
        assert headers["content-type"] == "application/json"
        assert headers["correlation_id"] == sent.correlation_id
        assert envelope == EventEnvelope.model_validate(sent.model_dump())
