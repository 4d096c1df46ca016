"""Fifty appends at one expected version, while their connections are being killed.

Each round, fifty writers append a different event at the same expected version of one
stream; meanwhile an administrator terminates the backends of appends in flight
(``pg_terminate_backend``), which may cut one off before or after its commit. A writer whose
connection died retries the very same append, which the store answers as an idempotent
duplicate if its first attempt had committed. Exactly one writer may end up the winner, the
stream must hold exactly its event, and every other writer a `StreamVersionConflict`.
"""

from __future__ import annotations

import asyncio
import random

import asyncpg

from events import NewEvent
from eventstore import AppendResult, PostgresEventStore, StreamVersionConflict
from tests.faults.figures import Report
from tests.faults.scale import FaultScale
from tests.support import create_database, new_event, unique_stream

CONTENDERS = 50
CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.OperatorInterventionError,  # "terminating connection due to administrator command"
    # asyncpg sometimes reports a backend terminated mid-statement as a protocol state error
    # (MagicStack/asyncpg#1069); the connection is gone all the same.
    asyncpg.InternalClientError,
    OSError,
)
_IN_FLIGHT = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'mentorflow'
  AND state = 'active' AND pid <> pg_backend_pid()
ORDER BY random() LIMIT $1
"""


class Writer:
    """One contender: appends its event, retrying the same append when the connection dies."""

    def __init__(self, store: PostgresEventStore, stream_id: str, event: NewEvent) -> None:
        self.store, self.stream_id, self.event = store, stream_id, event
        self.retries = 0

    async def append(self) -> AppendResult | StreamVersionConflict:
        while True:
            try:
                return await self.store.append(self.stream_id, 1, [self.event])
            except StreamVersionConflict as conflict:
                return conflict
            except CONNECTION_LOST:
                self.retries += 1


async def _terminate_in_flight(admin: asyncpg.Connection, done: asyncio.Event) -> int:
    terminated = 0
    rng = random.Random()
    while not done.is_set():
        terminated += sum(bool(row[0]) for row in await admin.fetch(_IN_FLIGHT, rng.randint(1, 3)))
        await asyncio.sleep(rng.uniform(0.0, 0.004))
    return terminated


async def test_fifty_concurrent_appends_at_one_version_have_one_winner_while_connections_die(
    postgres_server_url: str, scale: FaultScale, report: Report
) -> None:
    figures = report("backends of appends in flight terminated")
    database_url = await create_database(postgres_server_url, "faults_appends")
    store = await PostgresEventStore.connect(database_url, max_size=CONTENDERS + 5)
    admin = await asyncpg.connect(database_url)
    winners_per_round: list[int] = []
    terminated = retries = checked = answered_as_duplicate = 0
    lost = duplicated = 0
    try:
        for _ in range(scale.append_rounds):
            stream_id = unique_stream()
            await store.append(stream_id, 0, [new_event()])
            writers = [
                Writer(store, stream_id, new_event(data={"writer": n})) for n in range(CONTENDERS)
            ]
            done = asyncio.Event()
            terminator = asyncio.create_task(_terminate_in_flight(admin, done))
            try:
                outcomes = await asyncio.gather(
                    *(writer.append() for writer in writers), return_exceptions=True
                )
            finally:
                done.set()
                terminated += await terminator
            retries += sum(writer.retries for writer in writers)

            won = [
                writer
                for writer, outcome in zip(writers, outcomes, strict=True)
                if isinstance(outcome, AppendResult)
            ]
            winners_per_round.append(len(won))
            answered_as_duplicate += sum(
                isinstance(outcome, AppendResult) and outcome.duplicate for outcome in outcomes
            )
            failures = [
                o for o in outcomes if not isinstance(o, AppendResult | StreamVersionConflict)
            ]
            assert not failures, f"an append failed otherwise than by a conflict: {failures[0]!r}"
            stored = await store.read_stream(stream_id)
            checked += len(stored)
            lost += len(won) == 1 and won[0].event.event_id not in {e.event_id for e in stored}
            duplicated += max(len(stored) - 2, 0)
    finally:
        await admin.close()
        await store.close()

    figures.events_checked = checked
    figures.lost, figures.duplicated = lost, duplicated
    figures.notes = {
        "rounds": len(winners_per_round),
        "appends": len(winners_per_round) * CONTENDERS,
        "winners per round": sorted(set(winners_per_round)),
        "connections terminated": terminated,
        "appends retried": retries,
        "winners answered as a duplicate (committed, then cut off)": answered_as_duplicate,
    }
    assert winners_per_round == [1] * scale.append_rounds
    assert (lost, duplicated) == (0, 0)
