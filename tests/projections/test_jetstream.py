"""The projector against a real nats-server: redelivery, order, poison messages, crashes."""

from __future__ import annotations

import asyncio
import json
import random
import uuid

from nats.js import JetStreamContext

from events import mentorship as m
from eventstore import PostgresEventStore
from mentorflow.stack import StackAddresses
from projections import SCHEMA, ProjectorConfig, all_projections, rebuild_projections
from tests.projections.streams import append_interleaved, scenario, stored_envelopes
from tests.projections.support import (
    checkpoint_versions,
    duplicate_id,
    publish,
    running_projector,
    snapshot,
    wait_until_caught_up,
)
from tests.support import assert_eventually


async def test_duplicated_and_reordered_deliveries_take_effect_exactly_once(
    stack: StackAddresses,
    store: PostgresEventStore,
    jetstream: JetStreamContext,
    bus: ProjectorConfig,
) -> None:
    streams = scenario(4)
    await append_interleaved(store, streams)
    envelopes = await stored_envelopes(store)
    projections = all_projections()
    rng = random.Random(11)
    shuffled = envelopes[:]
    rng.shuffle(shuffled)

    async with running_projector(stack.nats_url, store, bus):
        for envelope in shuffled:
            await publish(jetstream, bus, envelope)
            if rng.random() < 0.3:  # the relay re-publishing after its dedup window passed
                await publish(jetstream, bus, envelope, duplicate_id())
        await wait_until_caught_up(store.pool, projections, envelopes)
        live = await snapshot(store.pool, projections)

    for stream in streams[1:]:
        held = await store.pool.fetchval(
            f"SELECT conversations_held FROM {SCHEMA}.mentorship_overview WHERE stream_id = $1",
            stream.stream_id,
        )
        assert held == sum(isinstance(event, m.ConversationHeld) for event, _ in stream.events)
    await rebuild_projections(store)
    assert await snapshot(store.pool, projections) == live


async def test_a_poison_message_is_parked_with_its_error_and_the_rest_go_on(
    stack: StackAddresses,
    store: PostgresEventStore,
    jetstream: JetStreamContext,
    bus: ProjectorConfig,
) -> None:
    streams = scenario(2)
    await append_interleaved(store, streams)
    envelopes = await stored_envelopes(store)
    poison = envelopes[-1].model_copy(
        update={
            "event_id": uuid.uuid4(),
            "stream_id": "mentorship-poison-p-1",
            "stream_version": 1,
            "event_type": "ConversationHeld",
            "data": {"notes": "my very private note"},
        }
    )
    projections = all_projections()

    async with running_projector(stack.nats_url, store, bus):
        await publish(jetstream, bus, envelopes[0])
        await publish(jetstream, bus, poison)
        for envelope in envelopes[1:]:
            await publish(jetstream, bus, envelope)
        await wait_until_caught_up(store.pool, projections, envelopes)

        for projection in projections:
            subscription = await jetstream.pull_subscribe(
                bus.dead_letter_subject(projection.name), stream=bus.dead_letter_stream
            )
            (parked,) = await subscription.fetch(1, timeout=10)
            assert json.loads(parked.data)["event_id"] == str(poison.event_id)
            assert parked.headers is not None
            assert parked.headers["Mentorflow-Error-Type"] == "ValidationError"
            assert parked.headers["Mentorflow-Deliveries"] == str(bus.max_deliver)
            assert "held_at: Field required" in parked.headers["Mentorflow-Error"]
            assert "private" not in parked.headers["Mentorflow-Error"]
            await subscription.unsubscribe()

            async def pending(name: str = projection.name) -> int:
                info = await jetstream.consumer_info(bus.stream, bus.durable(name))
                return int(info.num_ack_pending or 0) + int(info.num_pending or 0)

            await assert_eventually(pending, lambda count: count == 0, timeout=10)
    assert "mentorship-poison-p-1" not in await checkpoint_versions(
        store.pool, "mentorship_overview"
    )


async def test_a_projector_cancelled_mid_batch_recovers_to_exactly_a_rebuild(
    stack: StackAddresses,
    store: PostgresEventStore,
    jetstream: JetStreamContext,
    bus: ProjectorConfig,
) -> None:
    await append_interleaved(store, scenario(30))
    envelopes = await stored_envelopes(store)
    projections = all_projections()
    for envelope in envelopes:
        await publish(jetstream, bus, envelope)

    async def applied() -> int:
        return int(await store.pool.fetchval(f"SELECT sum(version) FROM {SCHEMA}.checkpoints"))

    total = sum(
        len([e for e in envelopes if projection.handles(e.stream_id)]) for projection in projections
    )
    async with running_projector(stack.nats_url, store, bus) as task:
        await assert_eventually(
            lambda: store.pool.fetchval(f"SELECT count(*) FROM {SCHEMA}.checkpoints"),
            lambda count: count > 0,
            interval=0.005,
        )
        await assert_eventually(applied, lambda count: count >= total // 10, interval=0.005)
        task.cancel()
    at_crash = await applied()
    assert at_crash < total, "the crash came too late to interrupt anything"

    async with running_projector(stack.nats_url, store, bus):
        await wait_until_caught_up(store.pool, projections, envelopes, timeout=60)
        live = await snapshot(store.pool, projections)
    await rebuild_projections(store)
    assert await snapshot(store.pool, projections) == live


async def test_a_second_projector_on_the_same_consumers_shares_the_work(
    stack: StackAddresses,
    store: PostgresEventStore,
    jetstream: JetStreamContext,
    bus: ProjectorConfig,
) -> None:
    await append_interleaved(store, scenario(6))
    envelopes = await stored_envelopes(store)
    projections = all_projections()

    async with (
        running_projector(stack.nats_url, store, bus),
        running_projector(stack.nats_url, store, bus),
    ):
        await asyncio.gather(*(publish(jetstream, bus, envelope) for envelope in envelopes))
        await wait_until_caught_up(store.pool, projections, envelopes)
        live = await snapshot(store.pool, projections)
    await rebuild_projections(store)
    assert await snapshot(store.pool, projections) == live
