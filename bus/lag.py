"""How far each relay is behind the event store, read from PostgreSQL by any process.

A relay's checkpoint is its position in the store's tailing order (`bus.checkpoints`), so
the events it has yet to publish are exactly the rows after that position, and their oldest
``recorded_at`` says how long the first of them has been waiting. Both are read in one
statement over the tailing index, from whichever process asks (the relay itself may be the
one that is down).
"""

from __future__ import annotations

from dataclasses import dataclass

from eventstore import Pool
from eventstore.errors import translated
from eventstore.postgres import SCHEMA as EVENTSTORE_SCHEMA

DEFAULT_RELAY = "default"
"""The relay a deployment runs unless told otherwise (``mentorflow relay --name``)."""

_CHECKPOINTS = """
SELECT relay_name, transaction_id, global_position FROM bus.relay_checkpoints
"""

_HAS_CHECKPOINTS = "SELECT to_regclass('bus.relay_checkpoints') IS NOT NULL"

_BEHIND = f"""
SELECT count(*) AS events,
       coalesce(extract(epoch FROM now() - min(recorded_at)), 0)::float8 AS seconds
FROM {EVENTSTORE_SCHEMA}.events
WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
"""


@dataclass(frozen=True, slots=True)
class RelayLag:
    """Where one relay stands against the store.

    Attributes:
        relay_name: The relay's checkpoint name.
        events: Events stored after its checkpoint: not yet acknowledged by JetStream.
        seconds: How long the oldest of those has been stored (0 when there is none).
    """

    relay_name: str
    events: int
    seconds: float


async def relay_lags(pool: Pool) -> list[RelayLag]:
    """The lag of every relay that has a checkpoint; of the default one when none has.

    A relay that never ran is behind by every event of the store. A deployment whose relay
    has another name (``--name``) is not reported behind under the default name once its
    relay has checkpointed.

    Raises:
        DatabaseUnavailable: The database cannot be reached.
    """
    with translated():
        positions: dict[str, tuple[int, int]] = {}
        if await pool.fetchval(_HAS_CHECKPOINTS):
            for checkpoint in await pool.fetch(_CHECKPOINTS):
                positions[checkpoint["relay_name"]] = (
                    checkpoint["transaction_id"],
                    checkpoint["global_position"],
                )
        positions = positions or {DEFAULT_RELAY: (0, 0)}
        lags: list[RelayLag] = []
        for name, (transaction_id, global_position) in sorted(positions.items()):
            row = await pool.fetchrow(_BEHIND, str(transaction_id), global_position)
            events, seconds = (row["events"], row["seconds"]) if row else (0, 0.0)
            lags.append(RelayLag(name, int(events), max(float(seconds), 0.0)))
    return lags
