"""Fixtures of the projection tests: the module's database, emptied for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from eventstore import PostgresEventStore
from projections import migrate_read_models


@pytest.fixture
async def database_url(clean_database: str) -> str:
    """The module's database, as if new for this test."""
    return clean_database


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[PostgresEventStore]:
    """An event store with migrated read models, in the test's database."""
    store = await PostgresEventStore.connect(database_url, max_size=20)
    await migrate_read_models(store.pool)
    try:
        yield store
    finally:
        await store.close()
