"""Helpers of the projection tests: running the projections, snapshots, waiting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import asyncpg

from events import EventEnvelope
from eventstore import PostgresEventStore
from projections import (
    SCHEMA,
    Projection,
    ProjectionRunner,
    RunnerOptions,
    all_projections,
    run_projector,
)
from projections.base import stream_type_of
from tests.support import assert_eventually

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(pool: asyncpg.Pool, projections: Sequence[Projection[Any]]) -> Snapshot:
    """Every row of the projections' tables and checkpoints, in key order."""
    result: Snapshot = {}
    for projection in projections:
        for table in projection.tables:
            order = ", ".join(table.key_columns)
            rows = await pool.fetch(f"SELECT * FROM {SCHEMA}.{table.name} ORDER BY {order}")
            result[table.name] = [tuple(row.values()) for row in rows]
        checkpoints = await pool.fetch(
            f"SELECT stream_id, version, skipped, last_position, state::text "
            f"FROM {SCHEMA}.checkpoints WHERE projection = $1 ORDER BY stream_id",
            projection.name,
        )
        result[f"checkpoints:{projection.name}"] = [tuple(row.values()) for row in checkpoints]
    return result


def expected_versions(
    envelopes: Sequence[EventEnvelope], projection: Projection[Any]
) -> dict[str, int]:
    """The last version of every stream the projection reads."""
    versions: dict[str, int] = {}
    for envelope in envelopes:
        if stream_type_of(envelope.stream_id) in projection.stream_types:
            versions[envelope.stream_id] = max(
                versions.get(envelope.stream_id, 0), envelope.stream_version
            )
    return versions


async def checkpoint_versions(pool: asyncpg.Pool, projection: str) -> dict[str, int]:
    """The checkpoints of a projection, by stream."""
    rows = await pool.fetch(
        f"SELECT stream_id, version FROM {SCHEMA}.checkpoints WHERE projection = $1", projection
    )
    return {row["stream_id"]: row["version"] for row in rows}


async def wait_until_caught_up(
    pool: asyncpg.Pool,
    projections: Sequence[Projection[Any]],
    envelopes: Sequence[EventEnvelope],
    timeout: float = 30.0,
) -> None:
    """Wait until every projection's checkpoints reach the last version of each stream."""
    for projection in projections:
        expected = expected_versions(envelopes, projection)
        await assert_eventually(
            partial(checkpoint_versions, pool, projection.name),
            expected.__eq__,
            timeout=timeout,
            message=f"{projection.name} caught up",
        )


async def project_all(
    store: PostgresEventStore, projections: Sequence[Projection[Any]] | None = None
) -> None:
    """Bring the projections up to the store's tail, as the projector's runners do."""
    for projection in projections or all_projections():
        await ProjectionRunner(projection, store).catch_up()


FAST = RunnerOptions(poll_interval=0.2, retry_initial=0.05, retry_maximum=0.5, lock_interval=0.1)
"""Runner timing for tests: quick polls, retries and takeovers."""


@asynccontextmanager
async def running_projector(
    database_url: str,
    store: PostgresEventStore,
    projections: Sequence[Projection[Any]] | None = None,
    options: RunnerOptions = FAST,
) -> AsyncIterator[asyncio.Task[None]]:
    """The projector as a task; stopped (or, if the test cancelled it, awaited) on exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_projector(store, database_url, stop, projections, options=options)
    )
    try:
        yield task
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)
