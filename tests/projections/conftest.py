"""Fixtures of the projection tests: a fresh database, and a JetStream stream of their own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from eventstore import PostgresEventStore
from mentorflow.stack import StackAddresses
from projections import ProjectorConfig, migrate_read_models
from tests.support import create_database


@pytest.fixture
async def store(postgres_server_url: str) -> AsyncIterator[PostgresEventStore]:
    """An event store with migrated read models, in a database of the test's own."""
    store = await PostgresEventStore.connect(
        await create_database(postgres_server_url, "projections"), max_size=20
    )
    await migrate_read_models(store.pool)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def jetstream(stack: StackAddresses) -> AsyncIterator[JetStreamContext]:
    """A JetStream context on the session's NATS server."""
    connection = await nats.connect(stack.nats_url)
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


@pytest.fixture
async def bus(jetstream: JetStreamContext) -> AsyncIterator[ProjectorConfig]:
    """Names no other test uses, short delivery bounds, and the events stream created.

    The stream is created here, as the relay would, with a dedup window: tests that need
    a second copy of an event on the bus publish it under another message id.
    """
    token = uuid.uuid4().hex[:10]
    config = ProjectorConfig(
        stream=f"EVENTS_{token}",
        subject_prefix=f"t{token}.events",
        dead_letter_stream=f"DEAD_{token}",
        dead_letter_prefix=f"t{token}.deadletter.projections",
        durable_prefix=f"projection-{token}",
        max_deliver=3,
        backoff=(0.05, 0.1),
        ack_wait=2.0,
        batch_size=16,
        fetch_timeout=0.05,
        transient_retry_seconds=2.0,
    )
    await jetstream.add_stream(
        name=config.stream, subjects=[f"{config.subject_prefix}.>"], duplicate_window=120.0
    )
    try:
        yield config
    finally:
        for name in (config.stream, config.dead_letter_stream):
            with contextlib.suppress(NotFoundError):
                await jetstream.delete_stream(name)
