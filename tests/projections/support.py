"""Helpers of the projection tests: publishing as the relay does, snapshots, waiting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import asyncpg
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from events import EventEnvelope
from eventstore import PostgresEventStore
from projections import SCHEMA, Projection, ProjectorConfig, run_projector
from projections.base import stream_type_of
from tests.support import assert_eventually

Snapshot = dict[str, list[tuple[Any, ...]]]


async def publish(
    jetstream: JetStreamContext,
    config: ProjectorConfig,
    envelope: EventEnvelope,
    message_id: str | None = None,
) -> None:
    """Publish an envelope as the relay does (``message_id`` overrides the event id)."""
    subject = f"{config.subject_prefix}.{envelope.stream_type}.{envelope.event_type}"
    await jetstream.publish(
        subject,
        envelope.model_dump_json().encode(),
        headers={"Nats-Msg-Id": message_id or str(envelope.event_id)},
        stream=config.stream,
    )


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


@asynccontextmanager
async def running_projector(
    nats_url: str,
    store: PostgresEventStore,
    config: ProjectorConfig,
    projections: Sequence[Projection[Any]] | None = None,
) -> AsyncIterator[asyncio.Task[None]]:
    """The projector as a task; stopped (or, if the test cancelled it, awaited) on exit."""
    # FastStream logs every message at INFO; DEBUG keeps test output readable.
    broker = NatsBroker(nats_url, log_level=logging.DEBUG)
    stop = asyncio.Event()
    task = asyncio.create_task(run_projector(broker, store, stop, config, projections))
    try:
        yield task
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)


def duplicate_id() -> str:
    """A message id JetStream has not seen: the same event published a second time."""
    return f"again-{uuid.uuid4()}"
