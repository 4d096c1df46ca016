"""The read-model schema and its migrations (``projections/sql/NNNN_name.sql``)."""

from __future__ import annotations

from eventstore.migrator import load_migrations, migrate
from eventstore.pool import Pool
from vault import migrate_vault

SCHEMA = "read_models"
"""Where the live read models and checkpoints are."""


async def migrate_read_models(pool: Pool, schema: str = SCHEMA) -> int:
    """Bring ``schema`` up to date; return how many migrations were applied.

    The same migrations build a rebuild's staging schema, which is why they name tables
    without a schema (the migrator sets the search path).
    """
    await migrate_vault(pool)  # writers read the vault's tombstones (projections.forgetting)
    async with pool.acquire() as connection:
        return await migrate(connection, schema, load_migrations("projections"))
