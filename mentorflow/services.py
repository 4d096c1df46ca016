"""``mentorflow serve``: every service of mentorflow in one process, for small installations.

The worker, the projector (tailing the store), the cohort-launch command consumer and the
notifier (when it has a token to read contacts with) run side by side. The first three share
one pool (`eventstore.create_pool`) and one Temporal client; the relay and the HTTP API (given
as an extra service) open their own. Every configuration comes from `Settings`. When one of
them fails, the others are stopped and the error propagates (a supervisor restarts the
process); docker-compose runs them separately.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

import structlog
from faststream.nats import NatsBroker

from bus import run_relay
from bus.broker import broker_options
from eventstore import PostgresEventStore, create_pool
from mentorflow.cohorts import launch_cohort
from mentorflow.commands import include_commands
from mentorflow.directory.reactor import run_people_reactor
from mentorflow.metrics import observe_append, observe_delivery
from mentorflow.settings import Settings
from mentorflow.shutdown import stop_on_signals
from projections import run_projector
from vault import PersonalDataVault
from worker import build_worker, connect_client

log = structlog.get_logger(__name__)

ExtraService = Callable[[Settings, asyncio.Event], Coroutine[Any, Any, None]]


async def serve_all(
    settings: Settings, stop: asyncio.Event, extra: list[ExtraService] | None = None
) -> None:
    """Run the services until ``stop`` is set or one of them fails."""
    master = settings.master_keyring()
    # The worker's activities and the projector share this pool: twice one service's.
    database = settings.database
    pool = await create_pool(dataclasses.replace(database, max_size=2 * database.max_size))
    try:
        store = await PostgresEventStore.open(pool, on_append=observe_append)
        try:
            vault = await PersonalDataVault.create(pool, master)
            client = await connect_client(settings)
            broker = NatsBroker(settings.nats_url, **broker_options())
            include_commands(
                broker, partial(_launch, client, settings.task_queue), settings.commands_config()
            )

            async def worker() -> None:
                async with build_worker(client, store, settings.task_queue, vault):
                    await stop.wait()

            async def commands() -> None:
                await broker.start()
                try:
                    await stop.wait()
                finally:
                    await broker.stop()

            services: dict[str, Awaitable[None]] = {
                "worker": worker(),
                "relay": run_relay(
                    database, settings.bus_config(), stop, options=settings.relay_options()
                ),
                "projector": run_projector(
                    store, database.url, stop, options=settings.projector_options()
                ),
                "people_reactor": run_people_reactor(
                    store,
                    database.url,
                    client,
                    settings.task_queue,
                    stop,
                    options=settings.projector_options(),
                ),
                "commands": commands(),
            }
            if settings.notifier_api_token is not None:
                services["notifier"] = run_notifier_service(settings, stop)
            else:
                log.warning(
                    "notifier not started: set MENTORFLOW_NOTIFIER_API_TOKEN to a service token"
                )
            for service in extra or []:
                services[getattr(service, "__name__", "service")] = service(settings, stop)
            await _supervise(services, stop)
        finally:
            await store.close()
    finally:
        await pool.close()


async def _launch(client: Any, task_queue: str, spec: Any) -> Any:
    return await launch_cohort(client, spec, task_queue)


async def _supervise(services: dict[str, Awaitable[None]], stop: asyncio.Event) -> None:
    tasks = {asyncio.ensure_future(awaitable): name for name, awaitable in services.items()}
    log.info("services started", services=sorted(services))
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    if not stop.is_set():
        # One ended before anybody asked: say which, failure or not, before ending the others.
        log.warning("service ended by itself", services=sorted(tasks[task] for task in done))
    stop.set()  # one ended (failure, or the stop everybody waits for): end the others
    _, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    for task in done:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("service failed", service=tasks[task], error_type=type(error).__name__)
            raise error


async def run_api(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the HTTP API until ``stop`` is set."""
    import uvicorn

    from mentorflow.api import create_app

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
            proxy_headers=False,
        )
    )

    async def stop_when_asked() -> None:
        await stop.wait()
        server.should_exit = True

    stopper = asyncio.create_task(stop_when_asked())
    try:
        await server.serve()
    finally:
        stopper.cancel()


async def run_commands(settings: Settings, stop: asyncio.Event) -> None:
    """Consume cohort-launch commands from the bus until ``stop`` is set."""
    client = await connect_client(settings)
    broker = NatsBroker(settings.nats_url, **broker_options())
    include_commands(
        broker, partial(_launch, client, settings.task_queue), settings.commands_config()
    )
    await broker.start()
    try:
        await stop.wait()
    finally:
        await broker.stop()


async def serve_ways_in(settings: Settings) -> None:
    """``mentorflow api``: the HTTP API and the bus command consumer, until terminated."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    await _supervise(
        {"api": run_api(settings, stop), "commands": run_commands(settings, stop)}, stop
    )


async def run_notifier_service(settings: Settings, stop: asyncio.Event) -> None:
    """``mentorflow notifier``: the notifier until ``stop`` is set (its own pool).

    Raises:
        NotifierNotConfigured: No ``MENTORFLOW_NOTIFIER_API_TOKEN``.
    """
    from notifications.directory import ApiDirectory
    from notifications.service import run_notifier

    token = settings.notifier_api_token
    if token is None:
        raise NotifierNotConfigured(
            "the notifier needs MENTORFLOW_NOTIFIER_API_TOKEN: a token of role `service` "
            "(mentorflow tokens add --role service)"
        )
    pool = await create_pool(settings.database)
    directory = ApiDirectory(
        settings.api_url(), token.get_secret_value(), ttl=settings.notifier.directory_ttl
    )
    try:
        await run_notifier(
            pool, directory, settings.notifier_config(), stop, on_delivery=observe_delivery
        )
    finally:
        await directory.close()
        await pool.close()


class NotifierNotConfigured(RuntimeError):
    """The notifier has no token to read contacts with."""
