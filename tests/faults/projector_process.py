"""The projector in a process of its own, for tests that SIGKILL it.

``python -m tests.faults.projector_process DATABASE_URL NATS_URL CONFIG_JSON`` (the
`ProjectorConfig` as JSON) runs every projection until killed or SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from faststream.nats import NatsBroker

from eventstore import PostgresEventStore
from projections import ProjectorConfig, run_projector


async def _main(database_url: str, nats_url: str, config: ProjectorConfig) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    store = await PostgresEventStore.connect(database_url, max_size=10)
    try:
        broker = NatsBroker(nats_url, log_level=logging.DEBUG)
        await run_projector(broker, store, stop, config)
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], ProjectorConfig.model_validate_json(sys.argv[3])))
