"""Applying events to read models in one transaction: checkpoints, states and rows together.

The checkpoint rows of the streams involved are locked first (``FOR UPDATE``, in stream-id
order so that two writers never wait on each other in a cycle); each says which version of
its stream was applied last. Events at or below it are duplicates and change nothing; the
next ones are folded into the stored state, and the changed rows, the new states and the new
checkpoints are written in the same transaction. Whatever the broker does (redeliver,
reorder, deliver after a crash), each event therefore takes effect exactly once, and two
deliveries of one stream's events serialise on its row lock.

A batch of streams costs a fixed number of round trips, not a number per event or table:
lock the checkpoints, read the skips, then one statement that deletes and upserts the rows
of every table, saves the checkpoints and (live) the projection's position. Round trips,
not SQL, are what a busy projector spends its time on.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from events import CATALOG, EventCatalog
from eventstore import Position, StoredEvent
from eventstore.migrator import Connection
from projections.base import Projection, StreamProgress
from projections.errors import ProjectionError
from projections.folding import DecodeCache, apply_one
from projections.forgetting import erase_forgotten
from projections.schema import SCHEMA
from projections.tables import Row, Table, diff_rows


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


SAVE_POSITION = """
INSERT INTO {schema}.positions AS p (projection, transaction_id, global_position)
VALUES ($1, $7, $8)
ON CONFLICT (projection) DO UPDATE
SET transaction_id = excluded.transaction_id, global_position = excluded.global_position,
    updated_at = now(), stalled_event_id = NULL, stalled_error = NULL, stalled_since = NULL,
    stalled_attempts = 0
"""
"""A projection's position (the live schema's), clearing a stall: parameters $1, $7, $8."""


class ProjectionWriter:
    """The SQL of one projection in one schema (the live one or a rebuild's staging one)."""

    def __init__(
        self,
        projection: Projection[Any],
        schema: str = SCHEMA,
        catalog: EventCatalog = CATALOG,
        decoder: DecodeCache | None = None,
    ) -> None:
        self.projection = projection
        self.catalog = catalog
        self.decoder = decoder or DecodeCache(catalog)
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
        # Every stream's new checkpoint in one statement (arrays, one element per stream).
        self._save = (
            f"UPDATE {checkpoints} AS c SET version = s.version, skipped = s.skipped, "
            "last_position = s.last_position, state = s.state::jsonb "
            "FROM unnest($2::text[], $3::integer[], $4::integer[], $5::bigint[], $6::text[]) "
            "AS s(stream_id, version, skipped, last_position, state) "
            "WHERE c.projection = $1 AND c.stream_id = s.stream_id"
        )
        # Rows, checkpoints and (live) the position, all in one statement.
        self._write = {
            with_position: _write_sql(schema, projection.tables, self._save, with_position)
            for with_position in (False, True)
        }
        # Skips are decided on the live schema only, whoever writes (see `skip_event`).
        self._skips = (
            f"SELECT event_id FROM {SCHEMA}.skips "
            "WHERE projection = $1 AND event_id = ANY($2::uuid[])"
        )

    async def apply(
        self, connection: Connection, stream_id: str, events: Sequence[StoredEvent]
    ) -> StreamUpdate:
        """Apply the events of one stream not applied yet (see `apply_streams`)."""
        batch = await self.apply_streams(connection, {stream_id: events})
        return batch.updates[stream_id]

    async def apply_streams(
        self,
        connection: Connection,
        streams: Mapping[str, Sequence[StoredEvent]],
        position: Position | None = None,
    ) -> BatchUpdate:
        """Apply what is new in ``streams``, inside the caller's transaction.

        Args:
            connection: A connection in an open transaction (none is needed when
                ``streams`` is empty: only the position is written, in one statement).
            streams: Events by stream, each list in version order; events at or below a
                stream's checkpoint are ignored as duplicates.
            position: The projection's new position, saved (in the live schema) with the
                checkpoints; its stall, if any, is cleared.

        Raises:
            MissingEvents: A stream's new events do not start right after its checkpoint.
            pydantic.ValidationError, Exception: An event does not decode or a handler
                fails; the caller's transaction must then be rolled back.
        """
        projection, name = self.projection, self.projection.name
        result = BatchUpdate()
        if not streams:
            if position is not None:
                await self._write_all(connection, {}, {}, [], position)
            return result
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
                    event.stream_version,
                    event.position.global_position,
                    self.decoder.decode(event, skipped_ids),
                )
            after = projection.rows(stream_id, state)
            for table in projection.tables:
                old_rows, new_rows = before.get(table.name, ()), after.get(table.name, ())
                if old_rows == new_rows:
                    continue  # most events change few of a projection's tables
                changes = diff_rows(table, old_rows, new_rows)
                upserts[table.name] += changes.upserts
                deletes[table.name] += changes.deletes
            saves.append(
                (
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
        await self._write_all(connection, upserts, deletes, saves, position)
        return result

    async def _write_all(
        self,
        connection: Connection,
        upserts: Mapping[str, list[Row]],
        deletes: Mapping[str, list[Row]],
        saves: list[tuple[Any, ...]],
        position: Position | None,
    ) -> None:
        """One statement: deletes and upserts of every table, checkpoints, position."""
        checkpoints = [list(column) for column in zip(*saves, strict=True)] if saves else [[]] * 5
        tables: list[str] = []
        for table in self.projection.tables:
            tables.append(_rows_json(table.key_columns, deletes.get(table.name, ())))
            tables.append(_rows_json(table.columns, upserts.get(table.name, ())))
        where = [position.transaction_id, position.global_position] if position else []
        await connection.execute(
            self._write[position is not None],
            self.projection.name,
            *checkpoints,
            *where,
            *tables,
        )


def _write_sql(
    schema: str, tables: Sequence[Table], save_checkpoints: str, with_position: bool
) -> str:
    """The write statement: a CTE per table's deletes and upserts, one for checkpoints.

    Parameters: $1 projection, $2-$6 checkpoint columns (as in ``save_checkpoints``), with
    the position $7 and $8, then per table its deletes' keys and its upserted rows as JSON
    arrays of objects (`_rows_json`). Rows belong to one stream each and every stream comes
    once, so no two parts of the statement touch the same row.
    """
    number = 8 if with_position else 6
    parts = []
    for index, table in enumerate(tables):
        qualified = f"{schema}.{table.name}"
        keys = " AND ".join(f"t.{column} = k.{column}" for column in table.key_columns)
        columns = ", ".join(table.columns)
        parts.append(
            f"delete_{index} AS (DELETE FROM {qualified} AS t USING "
            f"json_populate_recordset(NULL::{qualified}, ${number + 1}::json) AS k "
            f"WHERE {keys})"
        )
        parts.append(
            f"upsert_{index} AS (INSERT INTO {qualified} ({columns}) SELECT {columns} "
            f"FROM json_populate_recordset(NULL::{qualified}, ${number + 2}::json) "
            f"{table.on_conflict_sql()})"
        )
        number += 2
    parts.append(f"saved AS ({save_checkpoints})")
    main = SAVE_POSITION.format(schema=SCHEMA) if with_position else "SELECT 1"
    return "WITH " + ",\n".join(parts) + "\n" + main


def _rows_json(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """Rows as a JSON array of objects by column, as ``json_populate_recordset`` reads them.

    Values convert exactly: JSON numbers are printed round-trip, timestamps in ISO format
    with their offset (a naive one is taken as local time, as asyncpg takes it).
    """
    return json.dumps(
        [dict(zip(columns, row, strict=False)) for row in rows],
        default=_json_value,
        separators=(",", ":"),
    )


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.astimezone()).isoformat()
    if isinstance(value, date | UUID | Decimal):
        return str(value)
    raise TypeError(f"a read-model value of type {type(value).__name__} has no JSON form")
