"""The projector in a process of its own, for tests that SIGKILL it.

``python -m tests.faults.projector_process DATABASE_URL`` runs every projection (those whose
lock it gets; it stands by for the others) until killed or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from eventstore import PostgresEventStore
from projections import RunnerOptions, run_projector

OPTIONS = RunnerOptions(poll_interval=0.2, retry_initial=0.1, retry_maximum=1.0, lock_interval=0.2)


async def _main(database_url: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    store = await PostgresEventStore.connect(database_url, max_size=10)
    try:
        await run_projector(store, database_url, stop, options=OPTIONS)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1]))
