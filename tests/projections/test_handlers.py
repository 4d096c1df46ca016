"""The projection handlers on FastStream's in-memory TestNatsBroker (fast, no NATS server).

The in-memory broker emulates neither redelivery nor dedup: what depends on them is proved
against the real server in `test_jetstream`.
"""

from __future__ import annotations

import json

import structlog
from faststream.nats import NatsBroker, TestNatsBroker
from faststream.nats.annotations import NatsMessage

from eventstore import PostgresEventStore
from projections import SCHEMA, ProjectorConfig, projection_router
from tests.projections.streams import scenario, stored_envelopes

CONFIG = ProjectorConfig(max_deliver=1)  # the first failure parks the message


async def _overview_version(store: PostgresEventStore, stream_id: str) -> int | None:
    version: int | None = await store.pool.fetchval(
        f"SELECT version FROM {SCHEMA}.checkpoints "
        "WHERE projection = 'mentorship_overview' AND stream_id = $1",
        stream_id,
    )
    return version


def _broker(store: PostgresEventStore) -> tuple[NatsBroker, list[tuple[bytes, dict[str, str]]]]:
    broker = NatsBroker()
    router, _ = projection_router(store, CONFIG)
    broker.include_router(router)
    parked: list[tuple[bytes, dict[str, str]]] = []

    @broker.subscriber(f"{CONFIG.dead_letter_prefix}.>", stream=CONFIG.dead_letter_stream)
    async def dead_letters(message: NatsMessage) -> None:
        parked.append((message.body, dict(message.headers)))

    return broker, parked


async def test_events_are_applied_once_however_often_they_arrive(
    store: PostgresEventStore,
) -> None:
    stream = scenario(1)[1]
    await store.append(stream.stream_id, 0, stream.new_events())
    envelopes = await stored_envelopes(store)
    broker, parked = _broker(store)

    async with TestNatsBroker(broker) as test_broker:
        for envelope in [*envelopes[:5], *envelopes[:5], envelopes[9], *envelopes[3:9]]:
            await test_broker.publish(
                envelope.model_dump_json(),
                f"{CONFIG.subject_prefix}.mentorship.{envelope.event_type}",
                stream=CONFIG.stream,
            )

    assert await _overview_version(store, stream.stream_id) == 10
    held = await store.pool.fetchval(
        f"SELECT conversations_held FROM {SCHEMA}.mentorship_overview WHERE stream_id = $1",
        stream.stream_id,
    )
    assert held == sum(envelope.event_type == "ConversationHeld" for envelope in envelopes[:10])
    assert parked == []


async def test_a_poison_message_is_parked_with_its_error_and_logged_without_personal_text(
    store: PostgresEventStore,
) -> None:
    stream = scenario(1)[1]
    await store.append(stream.stream_id, 0, stream.new_events())
    good = (await stored_envelopes(store))[0]
    poison = good.model_copy(
        update={
            "stream_id": "mentorship-poison-p-1",
            "event_type": "ConversationHeld",
            "data": {"notes": "my very private note", "held_at": "yesterday"},
        }
    )
    broker, parked = _broker(store)

    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as test_broker:
            for body, event_type in (
                (poison.model_dump_json(), "ConversationHeld"),
                ("not json at all", "Garbage"),
                (good.model_dump_json(), good.event_type),
            ):
                await test_broker.publish(
                    body, f"{CONFIG.subject_prefix}.mentorship.{event_type}", stream=CONFIG.stream
                )

    assert await _overview_version(store, stream.stream_id) == 1
    mine = [
        (body, headers)
        for body, headers in parked
        if headers["Mentorflow-Projection"] == "mentorship_overview"
    ]
    assert len(mine) == 2
    (poison_body, poison_headers), (garbage_body, garbage_headers) = mine
    assert json.loads(poison_body)["event_id"] == str(poison.event_id)
    assert poison_headers["Mentorflow-Error-Type"] == "ValidationError"
    assert "goal_ids: Field required" in poison_headers["Mentorflow-Error"]
    assert "private" not in poison_headers["Mentorflow-Error"]
    assert garbage_body == b"not json at all"
    assert garbage_headers["Mentorflow-Original-Subject"].endswith(".mentorship.Garbage")
    dead_lettered = [entry for entry in logs if entry["event"] == "projection.dead_lettered"]
    assert len(dead_lettered) == 2 * 5  # each of the five projections parks both
    assert "private" not in repr(logs)
