"""A relay in a process of its own, for tests that SIGKILL it.

``python -m tests.bus.relay_process DATABASE_URL CONFIG_JSON`` (the `BusConfig` as JSON) runs
until killed or SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bus import BusConfig, RelayOptions, run_relay


async def _main(database_url: str, config: BusConfig) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    options = RelayOptions(page_size=100, poll_interval=0.2, retry_initial=0.05, retry_maximum=0.5)
    await run_relay(database_url, config, stop, options=options)


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], BusConfig.model_validate_json(sys.argv[2])))
