"""The relay's checkpoint: its position in the store's tailing order, in PostgreSQL.

The checkpoint lives in the relay's own schema (``bus``), next to the event store, so that
PostgreSQL stays the one source of truth: whatever NATS holds or has lost, the relay can be
pointed back at any position and re-publish from there.

Driver errors leave as the event store's kinds (`eventstore.errors.translated`): the relay
waits out a `DatabaseUnavailable` and stops on anything else.
"""

from __future__ import annotations

from eventstore import Pool, Position
from eventstore.errors import translated
from eventstore.migrator import load_migrations, migrate

SCHEMA = "bus"

_LOAD = f"""
SELECT transaction_id, global_position FROM {SCHEMA}.relay_checkpoints WHERE relay_name = $1
"""

_SAVE = f"""
INSERT INTO {SCHEMA}.relay_checkpoints (relay_name, transaction_id, global_position)
VALUES ($1, $2, $3)
ON CONFLICT (relay_name) DO UPDATE
SET transaction_id = excluded.transaction_id,
    global_position = excluded.global_position,
    updated_at = now()
"""


async def migrate_bus_schema(pool: Pool) -> int:
    """Apply the bus schema's migrations; return how many were applied."""
    with translated():
        async with pool.acquire() as connection:
            return await migrate(connection, SCHEMA, load_migrations("bus"))


class RelayCheckpoints:
    """Load and save one relay's position (the schema must be migrated).

    Args:
        pool: A pool on the event store's database.
        relay_name: Which relay; one row each, so several relays (say, to two NATS
            clusters) can tail the same store.
    """

    def __init__(self, pool: Pool, relay_name: str = "default") -> None:
        self._pool = pool
        self.relay_name = relay_name

    async def load(self) -> Position:
        """The saved position; `Position.START` when the relay never ran."""
        with translated():
            row = await self._pool.fetchrow(_LOAD, self.relay_name)
        if row is None:
            return Position.START
        return Position(row["transaction_id"], row["global_position"])

    async def save(self, position: Position) -> None:
        """Record ``position`` (everything up to it is acknowledged by JetStream)."""
        with translated():
            await self._pool.execute(
                _SAVE, self.relay_name, position.transaction_id, position.global_position
            )
