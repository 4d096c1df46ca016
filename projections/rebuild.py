"""Rebuild: replay the whole store into fresh tables, then swap them in.

1. The projections' migrations build empty tables in a staging schema.
2. The store's tail (`read_all`, in safe order) is folded in memory, per projection and
   stream, with the same `apply` as the live path, then the resulting rows, states and
   checkpoints are copied into the staging tables in bulk (``COPY``).
3. One transaction swaps them in. It locks the live checkpoints table, which holds the live
   projector back (its transactions start by locking a checkpoint row) for the moment of
   the swap; catches up every stream the live projector has taken further than the replay
   (events committed meanwhile), so no applied event is lost; drops the live tables; moves
   the staging tables into ``read_models``; and replaces the projection's checkpoints.

The live projector runs on during steps 1 and 2. After the swap, deliveries of events the
rebuild already applied are duplicates, and later ones apply as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from events import CATALOG, EventCatalog
from eventstore import Position, PostgresEventStore
from eventstore.migrator import Connection
from eventstore.postgres import SCHEMA as EVENTSTORE_SCHEMA
from projections.base import Projection, StreamProgress, stream_type_of
from projections.errors import RebuildInProgress
from projections.folding import Decoded, apply_one, decode_stored
from projections.forgetting import erase_forgotten, lock_for_forgetting, sweep_forgotten
from projections.registry import select_projections
from projections.schema import SCHEMA, migrate_read_models
from projections.tables import Row
from projections.writer import ProjectionWriter
from vault.store import SCHEMA as VAULT_SCHEMA

STAGING_SCHEMA = "read_models_rebuild"
_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('mentorflow:projections:rebuild', 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('mentorflow:projections:rebuild', 0))"

ProgressCallback = Callable[[int, int], None]
"""Called with (events read so far, events in the store when the rebuild started)."""


@dataclass(frozen=True, slots=True)
class RebuildResult:
    """What a rebuild did."""

    projections: list[str]
    events: int
    """Events read from the store."""
    streams: int
    """Streams with a checkpoint, over all rebuilt projections."""
    caught_up: int
    """Events applied during the swap because the live projector was ahead."""
    seconds: float

    @property
    def events_per_second(self) -> float:
        """Read and folded per second, the swap included."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


_ANYONE_FORGOTTEN = f"SELECT EXISTS (SELECT FROM {VAULT_SCHEMA}.forgotten_people)"

_STATES_TABLE = """
CREATE TEMPORARY TABLE projection_states (
    projection text, stream_id text, version integer, skipped integer, last_position bigint,
    state text
) ON COMMIT DROP
"""


class _Fold:
    """One projection's state of every stream, folded in memory."""

    def __init__(self, projection: Projection[Any], skipped: Collection[UUID] = ()) -> None:
        self.projection = projection
        self.skipped = skipped
        self.streams: dict[str, tuple[Any, StreamProgress]] = {}

    def add(
        self, stream_id: str, version: int, position: int, decoded: Decoded, event_id: UUID | None
    ) -> None:
        entry = self.streams.get(stream_id)
        if entry is None:
            entry = self.streams[stream_id] = (
                self.projection.new_state(stream_id),
                StreamProgress(),
            )
        if self.skipped and event_id in self.skipped:
            decoded = None
        apply_one(self.projection, entry[0], entry[1], version, position, decoded)

    async def copy_into(self, connection: Connection, schema: str) -> None:
        projection = self.projection
        # By key, the last row winning, exactly as the live path's diff treats them.
        rows: dict[str, dict[Row, Row]] = {table.name: {} for table in projection.tables}
        checkpoints = []
        for stream_id, (state, progress) in self.streams.items():
            for table_name, table_rows in projection.rows(stream_id, state).items():
                table = projection.table(table_name)
                rows[table_name].update((table.key(row), row) for row in table_rows)
            checkpoints.append(
                (
                    projection.name,
                    stream_id,
                    progress.version,
                    progress.skipped,
                    progress.last_position,
                    projection.dump_state(state),
                )
            )
        records = {name: list(by_key.values()) for name, by_key in rows.items()}
        if await connection.fetchval(_ANYONE_FORGOTTEN):
            # Nobody forgotten (the usual case): no need to look for tokens in every row.
            # Whoever is forgotten from now on is swept from the staging tables in the swap.
            records = await erase_forgotten(connection, records)
        for table in projection.tables:
            await connection.copy_records_to_table(
                table.name,
                records=records[table.name],
                columns=table.columns,
                schema_name=schema,
            )
        # States travel as JSON text, and COPY's binary format has no text codec for jsonb:
        # copy into a text column, then cast on the server.
        await connection.execute(_STATES_TABLE)
        await connection.copy_records_to_table("projection_states", records=checkpoints)
        await connection.execute(
            f"INSERT INTO {schema}.checkpoints "
            "SELECT projection, stream_id, version, skipped, last_position, state::jsonb "
            "FROM projection_states"
        )
        await connection.execute("DROP TABLE projection_states")


async def rebuild_projections(
    store: PostgresEventStore,
    names: Sequence[str] | None = None,
    *,
    page_size: int = 10_000,
    on_progress: ProgressCallback | None = None,
    catalog: EventCatalog = CATALOG,
) -> RebuildResult:
    """Rebuild the named projections (all by default) from the event store.

    Raises:
        UnknownProjection: A name is not a projection's.
        RebuildInProgress: Another rebuild is running.
        pydantic.ValidationError: A stored event of a known type does not decode; nothing
            was swapped in.
    """
    started = time.perf_counter()
    pool = store.pool
    await migrate_read_models(pool)
    skips: dict[str, set[UUID]] = {}
    for row in await pool.fetch(f"SELECT projection, event_id FROM {SCHEMA}.skips"):
        skips.setdefault(row["projection"], set()).add(row["event_id"])
    folds = [
        _Fold(projection, skips.get(projection.name, set()))
        for projection in select_projections(names)
    ]
    async with pool.acquire() as lock_connection:
        if not await lock_connection.fetchval(_LOCK):
            raise RebuildInProgress
        try:
            await lock_connection.execute(f"DROP SCHEMA IF EXISTS {STAGING_SCHEMA} CASCADE")
            await migrate_read_models(pool, STAGING_SCHEMA)
            events, end = await _replay(store, folds, page_size, on_progress, catalog)
            async with pool.acquire() as connection, connection.transaction():
                for fold in folds:
                    await fold.copy_into(connection, STAGING_SCHEMA)
            caught_up = await _swap(store, [fold.projection for fold in folds], catalog, end)
        finally:
            await lock_connection.execute(f"DROP SCHEMA IF EXISTS {STAGING_SCHEMA} CASCADE")
            await lock_connection.fetchval(_UNLOCK)
    return RebuildResult(
        projections=[fold.projection.name for fold in folds],
        events=events,
        streams=sum(len(fold.streams) for fold in folds),
        caught_up=caught_up,
        seconds=time.perf_counter() - started,
    )


async def _replay(
    store: PostgresEventStore,
    folds: list[_Fold],
    page_size: int,
    on_progress: ProgressCallback | None,
    catalog: EventCatalog,
) -> tuple[int, Position]:
    total = await store.pool.fetchval(f"SELECT count(*) FROM {EVENTSTORE_SCHEMA}.events")
    by_type: dict[str, list[_Fold]] = {}
    for fold in folds:
        for stream_type in fold.projection.stream_types:
            by_type.setdefault(stream_type, []).append(fold)
    skipped: set[UUID | None] = {event_id for fold in folds for event_id in fold.skipped}
    read, end = 0, Position.START
    interested_in: dict[str, list[_Fold]] = {}  # by stream id
    # The next page is requested before this one is folded, so that the server reads it
    # while this process folds (the fold is CPU-bound; the read mostly waits).
    next_page = asyncio.ensure_future(store.read_all(Position.START, page_size))
    try:
        while page := await next_page:
            end = page[-1].position
            next_page = asyncio.ensure_future(store.read_all(end, page_size))
            for stored in page:
                stream_id = stored.stream_id
                interested = interested_in.get(stream_id)
                if interested is None:
                    interested = interested_in[stream_id] = by_type.get(
                        stream_type_of(stream_id), []
                    )
                if not interested:
                    continue
                event_id = stored.event_id if skipped else None
                decoded = (
                    None  # skipped by every projection reading it: never decoded
                    if event_id in skipped and all(event_id in f.skipped for f in interested)
                    else decode_stored(stored, catalog)
                )
                version = stored.stream_version
                position = stored.position.global_position
                for fold in interested:
                    fold.add(stream_id, version, position, decoded, event_id)
            read += len(page)
            if on_progress is not None:
                on_progress(read, max(total, read))
    finally:
        next_page.cancel()
    return read, end


_BEHIND = f"""
SELECT live.stream_id, coalesce(staged.version, 0) AS version
FROM {SCHEMA}.checkpoints AS live
LEFT JOIN {STAGING_SCHEMA}.checkpoints AS staged
       ON staged.projection = live.projection AND staged.stream_id = live.stream_id
WHERE live.projection = $1 AND live.version > coalesce(staged.version, 0)
"""


_POSITION = f"""
SELECT transaction_id, global_position FROM {SCHEMA}.positions WHERE projection = $1 FOR UPDATE
"""
_MOVE_POSITION = f"""
INSERT INTO {SCHEMA}.positions (projection, transaction_id, global_position) VALUES ($1, $2, $3)
ON CONFLICT (projection) DO UPDATE
SET transaction_id = excluded.transaction_id, global_position = excluded.global_position,
    updated_at = now()
"""


async def _swap(
    store: PostgresEventStore,
    projections: list[Projection[Any]],
    catalog: EventCatalog,
    end: Position,
) -> int:
    caught_up = 0
    async with store.pool.acquire() as connection, connection.transaction():
        # Conflicts with the row locks live transactions take on checkpoints: they wait for
        # the swap, and the swap waits for those already running.
        await connection.execute(f"LOCK TABLE {SCHEMA}.checkpoints IN EXCLUSIVE MODE")
        # Nobody forgets a person until the swap commits; whoever was forgotten while the
        # rebuild ran is erased from the staging tables before they go live.
        await lock_for_forgetting(connection, exclusive=False)
        await sweep_forgotten(connection, STAGING_SCHEMA, projections)
        for projection in projections:
            writer = ProjectionWriter(projection, STAGING_SCHEMA, catalog)
            for row in await connection.fetch(_BEHIND, projection.name):
                events = await store.read_stream_stored(row["stream_id"], row["version"] + 1)
                update = await writer.apply(connection, row["stream_id"], events)
                caught_up += update.applied
            live_tables = ", ".join(f"{SCHEMA}.{table.name}" for table in projection.tables)
            await connection.execute(f"DROP TABLE {live_tables}")
            for table in projection.tables:
                await connection.execute(
                    f"ALTER TABLE {STAGING_SCHEMA}.{table.name} SET SCHEMA {SCHEMA}"
                )
            await connection.execute(
                f"DELETE FROM {SCHEMA}.checkpoints WHERE projection = $1", projection.name
            )
            await connection.execute(
                f"INSERT INTO {SCHEMA}.checkpoints SELECT * FROM {STAGING_SCHEMA}.checkpoints "
                "WHERE projection = $1",
                projection.name,
            )
            live = await connection.fetchrow(_POSITION, projection.name)
            if live is None or Position(live["transaction_id"], live["global_position"]) < end:
                # Everything up to the replay's end is in; the runner goes on from there.
                await connection.execute(
                    _MOVE_POSITION, projection.name, end.transaction_id, end.global_position
                )
    return caught_up
