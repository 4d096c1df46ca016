"""Long-running services: ``mentorflow worker`` (relay, projector and api join it later)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Annotated

import typer

from mentorflow.settings import Settings
from mentorflow.shutdown import stop_on_signals


def worker(ctx: typer.Context) -> None:
    """Run the Temporal worker: every workflow and activity of mentorflow."""
    from worker import run_worker  # the composition root imports adapters only when needed

    settings: Settings = ctx.obj

    async def serve() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await run_worker(settings, stop)

    asyncio.run(serve())


def demo(
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the servers the demo started.")
    ] = False,
) -> None:
    """Run a small cohort end to end through the HTTP API on an accelerated calendar."""
    from rich.console import Console

    from mentorflow.demo import run_demo

    # The demo narrates; the services' info logs would drown it (MENTORFLOW_LOG_LEVEL wins).
    if "MENTORFLOW_LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.WARNING)
    dashboard = asyncio.run(run_demo(Console(highlight=False, soft_wrap=True), stop=stop))
    typer.echo(
        f"Demo complete: {dashboard['pairs']} pairs, all closed ({dashboard['pairs_by_stage']})."
    )


def serve(ctx: typer.Context) -> None:
    """Run worker, relay, projector, command consumer and HTTP API in one process."""
    from mentorflow.services import run_api, serve_all

    settings: Settings = ctx.obj

    async def run() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await serve_all(settings, stop, extra=[run_api])

    asyncio.run(run())
