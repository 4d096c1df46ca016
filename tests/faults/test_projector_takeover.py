"""Two projector processes: one active per projection, the other takes over after kill -9.

Both tail the same store. The first to start holds every projection's advisory lock; the
second stands by. While writers append a burst, the active one is SIGKILLed: its session
ends, so do its locks, and the standby takes every projection over from the positions the
dead one committed. The read models must end equal to a rebuild from the store.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import asyncpg
import pytest

from eventstore import PostgresEventStore
from projections import all_projections, migrate_read_models, rebuild_projections
from tests.faults.burst import paced_burst, streams_of
from tests.faults.scale import fault_seed
from tests.faults.services import ServiceProcess, projector_process
from tests.projections.streams import stored_envelopes
from tests.projections.support import snapshot, wait_until_caught_up
from tests.support import assert_eventually, create_database

pytestmark = pytest.mark.slow

_HOLDERS = """
SELECT a.application_name, count(*) AS locks
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
  AND a.application_name LIKE 'mentorflow-projector:%'
GROUP BY a.application_name
"""


async def _holders(pool: asyncpg.Pool) -> dict[int, int]:
    """Projection locks held, by OS process id of the projector."""
    rows = await pool.fetch(_HOLDERS)
    return {int(row["application_name"].split(":")[1]): row["locks"] for row in rows}


def _pid(service: ServiceProcess) -> int:
    assert service.pid is not None
    return service.pid


async def test_the_standby_projector_takes_over_when_the_active_one_is_killed(
    postgres_server_url: str, tmp_path: Path
) -> None:
    database_url = await create_database(postgres_server_url, "faults_takeover")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    projections = all_projections()
    first = projector_process(database_url, tmp_path, "projector-1")
    second = projector_process(database_url, tmp_path, "projector-2")
    seed = fault_seed()
    streams = streams_of(3000, seed)
    try:
        first.start()
        await assert_eventually(
            lambda: _holders(store.pool),
            lambda holders: holders == {_pid(first): len(projections)},
            timeout=30,
            message="the first projector holds every projection",
        )
        second.start()
        burst = asyncio.create_task(paced_burst(store, streams, 6.0))
        await asyncio.sleep(random.Random(seed).uniform(1.0, 4.0))
        # The second stands by: not one projection is its.
        assert await _holders(store.pool) == {_pid(first): len(projections)}
        first.kill()
        await assert_eventually(
            lambda: _holders(store.pool),
            lambda holders: holders == {_pid(second): len(projections)},
            timeout=30,
            message="the second projector took every projection over",
        )
        await burst
        await wait_until_caught_up(
            store.pool, projections, await stored_envelopes(store), timeout=120
        )
        second.check_alive()
        live = await snapshot(store.pool, projections)
        second.stop()
        stalled = await store.pool.fetchval(
            "SELECT count(*) FROM read_models.positions WHERE stalled_event_id IS NOT NULL"
        )
        await rebuild_projections(store)
        rebuilt = await snapshot(store.pool, projections)
    finally:
        first.stop()
        second.stop()
        await store.close()

    assert stalled == 0
    differing = sorted(name for name in live if live[name] != rebuilt.get(name))
    assert not differing, f"live and rebuilt read models differ in {differing}"
    assert live["mentorship_overview"], "the overview has rows"
