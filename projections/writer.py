"""Applying events to read models in one transaction: checkpoints, states and rows together.

The checkpoint rows of the streams involved are locked first (``FOR UPDATE``, in stream-id
order so that two writers never wait on each other in a cycle); each says which version of
its stream was applied last. Events at or below it are duplicates and change nothing; the
next ones are folded into the stored state, and the changed rows, the new states and the new
checkpoints are written in the same transaction. Whatever the broker does (redeliver,
reorder, deliver after a crash), each event therefore takes effect exactly once, and two
deliveries of one stream's events serialise on its row lock.

A batch of streams costs a fixed number of statements (lock, then one ``executemany`` per
table), not a number per event: that is what keeps a busy projector ahead of the store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID

from events import CATALOG, EventCatalog
from eventstore import StoredEvent
from eventstore.migrator import Connection
from projections.base import Projection, StreamProgress
from projections.errors import ProjectionError
from projections.folding import apply_one, decode_stored
from projections.forgetting import erase_forgotten
from projections.schema import SCHEMA
from projections.tables import Row, diff_rows


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """What one transaction did to a stream's read model."""

    applied: int
    """Events applied (unknown ones included, as skipped)."""
    skipped: int
    """Of those, events of unknown types."""
    version: int
    """The stream's checkpoint after the transaction."""


@dataclass(slots=True)
class BatchUpdate:
    """What one transaction did to several streams."""

    updates: dict[str, StreamUpdate] = field(default_factory=dict)


class MissingEvents(ProjectionError):
    """The events offered do not start right after the checkpoint (a bug in the caller: the
    store's tailing order gives every stream's events in version order)."""

    def __init__(self, stream_id: str, from_version: int) -> None:
        super().__init__(f"{stream_id}: events from version {from_version} are missing")
        self.stream_id = stream_id
        self.from_version = from_version


class ProjectionWriter:
    """The SQL of one projection in one schema (the live one or a rebuild's staging one)."""

    def __init__(
        self, projection: Projection[Any], schema: str = SCHEMA, catalog: EventCatalog = CATALOG
    ) -> None:
        self.projection = projection
        self.catalog = catalog
        checkpoints = f"{schema}.checkpoints"
        self._create = (
            f"INSERT INTO {checkpoints} (projection, stream_id, version) "
            "SELECT $1, new.stream_id, 0 FROM unnest($2::text[]) AS new(stream_id) "
            "ORDER BY new.stream_id ON CONFLICT DO NOTHING"
        )
        self._lock = (
            f"SELECT stream_id, version, skipped, last_position, state::text AS state "
            f"FROM {checkpoints} WHERE projection = $1 AND stream_id = ANY($2::text[]) "
            "ORDER BY stream_id FOR UPDATE"
        )
        self._save = (
            f"UPDATE {checkpoints} SET version = $3, skipped = $4, last_position = $5, "
            "state = $6::jsonb WHERE projection = $1 AND stream_id = $2"
        )
        # Skips are decided on the live schema only, whoever writes (see `skip_event`).
        self._skips = (
            f"SELECT event_id FROM {SCHEMA}.skips "
            "WHERE projection = $1 AND event_id = ANY($2::uuid[])"
        )
        self._upserts = {table.name: table.upsert_sql(schema) for table in projection.tables}
        self._deletes = {table.name: table.delete_sql(schema) for table in projection.tables}

    async def apply(
        self, connection: Connection, stream_id: str, events: Sequence[StoredEvent]
    ) -> StreamUpdate:
        """Apply the events of one stream not applied yet (see `apply_streams`)."""
        batch = await self.apply_streams(connection, {stream_id: events})
        return batch.updates[stream_id]

    async def apply_streams(
        self, connection: Connection, streams: Mapping[str, Sequence[StoredEvent]]
    ) -> BatchUpdate:
        """Apply what is new in ``streams``, inside the caller's transaction.

        Args:
            connection: A connection in an open transaction.
            streams: Events by stream, each list in version order; events at or below a
                stream's checkpoint are ignored as duplicates.

        Raises:
            MissingEvents: A stream's new events do not start right after its checkpoint.
            pydantic.ValidationError, Exception: An event does not decode or a handler
                fails; the caller's transaction must then be rolled back.
        """
        projection, name = self.projection, self.projection.name
        stream_ids = sorted(streams)
        rows = await connection.fetch(self._lock, name, stream_ids)
        if len(rows) < len(stream_ids):
            # First events of some streams: create their rows, then lock all of them. A
            # concurrent first event waits on the insert and then finds the committed row.
            await connection.execute(self._create, name, stream_ids)
            rows = await connection.fetch(self._lock, name, stream_ids)
        # Read after the checkpoint rows are locked: `skip_event` takes the same lock, so a
        # skip is either seen here or refused there because the event was applied.
        newest = {row["stream_id"]: row["version"] for row in rows}
        candidates = [
            event.event_id
            for stream_id, events in streams.items()
            for event in events
            if event.stream_version > newest[stream_id]
        ]
        skipped_ids: Collection[UUID] = (
            {row["event_id"] for row in await connection.fetch(self._skips, name, candidates)}
            if candidates
            else ()
        )
        result = BatchUpdate()
        upserts: dict[str, list[Row]] = {table.name: [] for table in projection.tables}
        deletes: dict[str, list[Row]] = {table.name: [] for table in projection.tables}
        saves: list[tuple[Any, ...]] = []
        for row in rows:
            stream_id = row["stream_id"]
            progress = StreamProgress(row["version"], row["skipped"], row["last_position"])
            pending = [e for e in streams[stream_id] if e.stream_version > progress.version]
            if not pending:
                result.updates[stream_id] = StreamUpdate(0, 0, progress.version)
                continue
            first = progress.version + 1
            if [e.stream_version for e in pending] != list(range(first, first + len(pending))):
                raise MissingEvents(stream_id, first)
            state = (
                projection.new_state(stream_id)
                if row["state"] is None
                else projection.load_state(stream_id, row["state"])
            )
            before = projection.rows(stream_id, state)
            skipped = progress.skipped
            for event in pending:
                apply_one(
                    projection,
                    state,
                    progress,
                    stream_version=event.stream_version,
                    global_position=event.position.global_position,
                    decode=partial(decode_stored, event, self.catalog, skipped_ids),
                )
            after = projection.rows(stream_id, state)
            for table in projection.tables:
                changes = diff_rows(table, before.get(table.name, ()), after.get(table.name, ()))
                upserts[table.name] += changes.upserts
                deletes[table.name] += changes.deletes
            saves.append(
                (
                    name,
                    stream_id,
                    progress.version,
                    progress.skipped,
                    progress.last_position,
                    projection.dump_state(state),
                )
            )
            result.updates[stream_id] = StreamUpdate(
                len(pending), progress.skipped - skipped, progress.version
            )
        upserts = await erase_forgotten(connection, upserts)
        for table in projection.tables:
            if deletes[table.name]:
                await connection.executemany(self._deletes[table.name], deletes[table.name])
            if upserts[table.name]:
                await connection.executemany(self._upserts[table.name], upserts[table.name])
        if saves:
            await connection.executemany(self._save, saves)
        return result
