"""Fixtures of the bus tests: the module's database, emptied for each test, and a stream of
each test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client

from bus import BusConfig
from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from tests.bus.support import isolated_bus_config


@pytest.fixture
async def database_url(clean_database: str) -> str:
    """The module's database, as if new for this test."""
    return clean_database


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresEventStore]:
    """An event store on the test's database."""
    event_store = await PostgresEventStore.connect(database_url)
    try:
        yield event_store
    finally:
        await event_store.close()


@pytest.fixture
def bus_config(stack: StackAddresses) -> BusConfig:
    """The session's NATS, with a stream and subject prefix of this test's own."""
    return isolated_bus_config(stack.nats_url)


@pytest.fixture
async def nats_client(stack: StackAddresses) -> AsyncIterator[Client]:
    """A plain nats-py client (what an external consumer would use)."""
    client = await nats.connect(stack.nats_url)
    try:
        yield client
    finally:
        await client.close()
