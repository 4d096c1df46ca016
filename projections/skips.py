"""Skipping an event a projection cannot apply: the operator's way past a stall.

`skip_event` records who skipped which event of which projection, when and why, in
``read_models.skips``, and logs it. Both the live runner and a rebuild read that table and
count the event as skipped (as an event of an unknown type), so a rebuild still equals the
live read model. Only an event the projection has not applied yet can be skipped: the
stream's checkpoint row is locked while checking, and writers read skips under the same lock
(`projections.writer`), so a skip is either honoured or refused, never half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog

from eventstore.pool import Pool
from eventstore.postgres import SCHEMA as EVENTSTORE_SCHEMA
from projections.errors import EventAlreadyApplied, EventNotFound
from projections.registry import select_projections
from projections.schema import SCHEMA

logger = structlog.get_logger(__name__)

_EVENT = f"SELECT stream_id, stream_version FROM {EVENTSTORE_SCHEMA}.events WHERE event_id = $1"
_CREATE = f"""
INSERT INTO {SCHEMA}.checkpoints (projection, stream_id, version) VALUES ($1, $2, 0)
ON CONFLICT DO NOTHING
"""
_LOCK = f"""
SELECT version FROM {SCHEMA}.checkpoints WHERE projection = $1 AND stream_id = $2 FOR UPDATE
"""
_RECORD = f"""
INSERT INTO {SCHEMA}.skips (projection, event_id, reason, skipped_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (projection, event_id) DO UPDATE SET projection = excluded.projection
RETURNING skipped_by, skipped_at, reason
"""


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """A recorded skip."""

    projection: str
    event_id: UUID
    stream_id: str
    stream_version: int
    reason: str
    skipped_by: str
    skipped_at: datetime


async def skip_event(
    pool: Pool, name: str, event_id: UUID, reason: str, skipped_by: str
) -> SkipRecord:
    """Let projection ``name`` pass over event ``event_id``; idempotent.

    Raises:
        UnknownProjection: No projection is called ``name``.
        EventNotFound: The store holds no such event of the projection's streams.
        EventAlreadyApplied: The projection applied the event already.
        ValueError: The reason is empty or longer than 500 characters.
    """
    (projection,) = select_projections([name])
    reason = reason.strip()
    if not 1 <= len(reason) <= 500:
        raise ValueError("the reason must have 1 to 500 characters")
    async with pool.acquire() as connection, connection.transaction():
        event = await connection.fetchrow(_EVENT, event_id)
        if event is None or not projection.handles(event["stream_id"]):
            raise EventNotFound(name, str(event_id))
        stream_id, version = event["stream_id"], event["stream_version"]
        await connection.execute(_CREATE, name, stream_id)
        if await connection.fetchval(_LOCK, name, stream_id) >= version:
            raise EventAlreadyApplied(name, str(event_id))
        row = await connection.fetchrow(_RECORD, name, event_id, reason, skipped_by)
        assert row is not None  # RETURNING of an upsert
    # The reason stays in the table: it is the operator's free text.
    logger.warning(
        "projection.event_skipped",
        projection=name,
        event_id=str(event_id),
        stream_id=stream_id,
        stream_version=version,
        skipped_by=row["skipped_by"],
    )
    return SkipRecord(
        name, event_id, stream_id, version, row["reason"], row["skipped_by"], row["skipped_at"]
    )
