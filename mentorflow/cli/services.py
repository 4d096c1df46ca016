"""Long-running services: ``mentorflow worker`` (relay, projector and api join it later)."""

from __future__ import annotations

import asyncio
import signal

import typer

from mentorflow.settings import Settings


async def _until_terminated(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)


def worker(ctx: typer.Context) -> None:
    """Run the Temporal worker: every workflow and activity of mentorflow."""
    from worker import run_worker  # the composition root imports adapters only when needed

    settings: Settings = ctx.obj

    async def serve() -> None:
        stop = asyncio.Event()
        await _until_terminated(stop)
        await run_worker(settings, stop)

    asyncio.run(serve())
