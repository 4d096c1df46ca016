"""Fixtures of the projection tests: a fresh database of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from eventstore import PostgresEventStore
from projections import migrate_read_models
from tests.support import create_database


@pytest.fixture
async def database_url(postgres_server_url: str) -> str:
    """A database of the test's own."""
    return await create_database(postgres_server_url, "projections")


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresEventStore]:
    """An event store with migrated read models, in the test's database."""
    store = await PostgresEventStore.connect(database_url, max_size=20)
    await migrate_read_models(store.pool)
    try:
        yield store
    finally:
        await store.close()
