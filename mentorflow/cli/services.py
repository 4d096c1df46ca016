"""Long-running services: ``mentorflow worker``, ``serve`` and ``notifier``.

Each serves its Prometheus metrics on ``MENTORFLOW_METRICS_ADDRESS`` when set (`serve` at the
API's ``/metrics`` too), and those that talk to Temporal its SDK's metrics on
``MENTORFLOW_METRICS_TEMPORAL_ADDRESS`` (`mentorflow.metrics.process`).
"""

from __future__ import annotations

import asyncio

import typer

from mentorflow.settings import Settings
from mentorflow.shutdown import stop_on_signals


def worker(ctx: typer.Context) -> None:
    """Run the Temporal worker: every workflow and activity of mentorflow."""
    from mentorflow.metrics import process_metrics, use_temporal_metrics
    from worker import run_worker  # the composition root imports adapters only when needed

    settings: Settings = ctx.obj

    async def serve() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with process_metrics(settings):
            await run_worker(settings, stop)

    use_temporal_metrics(settings)
    asyncio.run(serve())


def serve(ctx: typer.Context) -> None:
    """Run worker, relay, projector, command consumer, notifier and HTTP API in one process."""
    from mentorflow.metrics import ALL_READINGS, process_metrics, use_temporal_metrics
    from mentorflow.services import run_api, serve_all

    settings: Settings = ctx.obj

    async def run() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with process_metrics(settings, readings=ALL_READINGS):
            await serve_all(settings, stop, extra=[run_api])

    use_temporal_metrics(settings)
    asyncio.run(run())


def notifier(ctx: typer.Context) -> None:
    """Run the notifier: emails, calendar invitations and webhook posts from the events bus."""
    from mentorflow.metrics import process_metrics
    from mentorflow.services import NotifierNotConfigured, run_notifier_service

    settings: Settings = ctx.obj

    async def run() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with process_metrics(settings):
            await run_notifier_service(settings, stop)

    try:
        asyncio.run(run())
    except NotifierNotConfigured as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
