"""The live path: apply delivered events, filling any gap before them from the store.

The broker may deliver a stream's events out of order, twice, or after a restart; the
checkpoint decides. An event at or below it is a duplicate. Events right after it are
applied. An event further ahead means earlier ones have not arrived (yet): they are read
from the event store, the source of truth, and applied first; when they arrive later they
are duplicates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from events import CATALOG, EventCatalog, EventEnvelope
from eventstore import PostgresEventStore
from projections.base import Projection
from projections.errors import EventNotInStore
from projections.metrics import RateMeter
from projections.schema import SCHEMA
from projections.writer import BatchUpdate, ProjectionWriter


class Outcome(StrEnum):
    """What a delivery did."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    """The event's stream type is not one the projection reads."""


@dataclass(frozen=True, slots=True)
class HandleResult:
    """The outcome of one delivery or batch of deliveries."""

    outcome: Outcome
    applied: int = 0
    """Events applied, the gaps filled from the store included."""
    skipped: int = 0
    """Of those, events of unknown types."""
    filled_from_store: int = 0
    """Events read from the store because they had not been delivered yet."""


class ProjectionApplier:
    """Applies delivered events to one projection's live read model."""

    def __init__(
        self,
        projection: Projection[Any],
        store: PostgresEventStore,
        *,
        schema: str = SCHEMA,
        catalog: EventCatalog = CATALOG,
        meter: RateMeter | None = None,
    ) -> None:
        self.projection = projection
        self.store = store
        self.writer = ProjectionWriter(projection, schema, catalog)
        self.meter = meter or RateMeter()

    @property
    def name(self) -> str:
        """The projection's name."""
        return self.projection.name

    async def handle(self, envelope: EventEnvelope) -> HandleResult:
        """Apply ``envelope`` (and any earlier event of its stream not applied yet).

        Raises:
            EventNotInStore: The gap before the event cannot be filled from the store, or the
                store holds another event at its version.
            pydantic.ValidationError: A known event type whose data does not validate.
        """
        return await self.handle_many([envelope])

    async def handle_many(self, envelopes: Sequence[EventEnvelope]) -> HandleResult:
        """Apply a batch of deliveries in one transaction (gaps in a second one).

        Raises:
            EventNotInStore, pydantic.ValidationError: As `handle`, for any of them; then
                nothing of the failing transaction was written.
        """
        streams: dict[str, dict[int, EventEnvelope]] = {}
        for envelope in envelopes:
            if self.projection.handles(envelope.stream_id):
                streams.setdefault(envelope.stream_id, {})[envelope.stream_version] = envelope
        if not streams:
            return HandleResult(Outcome.IGNORED)
        offered = {
            stream_id: [by_version[version] for version in sorted(by_version)]
            for stream_id, by_version in streams.items()
        }
        batch = await self._apply(offered)
        filled = 0
        if batch.missing:
            # Gaps are read outside the transaction: a handler holding one pooled connection
            # while waiting for a second could exhaust the pool under load.
            gaps = {
                stream_id: await self._read_gap(offered[stream_id][-1], from_version)
                for stream_id, from_version in batch.missing.items()
            }
            second = await self._apply(gaps)
            if second.missing:  # checkpoints only move forward: cannot happen
                raise RuntimeError(f"gaps remain after filling: {sorted(second.missing)}")
            batch.updates.update(second.updates)
            filled = sum(
                len(gaps[stream_id])
                - sum(envelope.stream_version >= from_version for envelope in offered[stream_id])
                for stream_id, from_version in batch.missing.items()
            )
        applied = sum(update.applied for update in batch.updates.values())
        if applied == 0:
            return HandleResult(Outcome.DUPLICATE)
        self.meter.add(applied)
        skipped = sum(update.skipped for update in batch.updates.values())
        return HandleResult(Outcome.APPLIED, applied, skipped, filled)

    async def _apply(self, streams: Mapping[str, Sequence[EventEnvelope]]) -> BatchUpdate:
        async with self.store.pool.acquire() as connection, connection.transaction():
            return await self.writer.apply_streams(connection, streams)

    async def _read_gap(self, last: EventEnvelope, from_version: int) -> list[EventEnvelope]:
        count = last.stream_version - from_version + 1
        events = await self.store.read_stream(last.stream_id, from_version, limit=count)
        if (
            len(events) != count
            or events[-1].stream_version != last.stream_version
            or events[-1].event_id != last.event_id
        ):
            raise EventNotInStore(last.stream_id, last.stream_version, str(last.event_id))
        return events
