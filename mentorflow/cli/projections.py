"""``mentorflow projector`` and ``mentorflow projections rebuild | status``.

Register in `mentorflow.cli.app`::

    app.command()(projector)
    app.add_typer(projections_app, name="projections")
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from eventstore import PostgresEventStore
from mentorflow.settings import Settings, load_settings
from mentorflow.shutdown import stop_on_signals
from projections import (
    ProjectionStatus,
    ProjectorConfig,
    RebuildResult,
    UnknownProjection,
    all_projections,
    projection_status,
    rebuild_projections,
    select_projections,
)

T = TypeVar("T")

projections_app = typer.Typer(
    help="Read models: rebuild them from the event store, show their lag.",
    no_args_is_help=True,
)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


async def _with_store(settings: Settings, work: Callable[[PostgresEventStore], Awaitable[T]]) -> T:
    store = await PostgresEventStore.connect(settings.database_url)
    try:
        return await work(store)
    finally:
        await store.close()


def projector(
    ctx: typer.Context,
    stream: Annotated[
        str, typer.Option(help="JetStream stream of the events.")
    ] = ProjectorConfig().stream,
    subject_prefix: Annotated[
        str, typer.Option(help="Subject prefix of the events.")
    ] = ProjectorConfig().subject_prefix,
) -> None:
    """Run the projections: consume events from JetStream into the read models."""
    from faststream.nats import NatsBroker

    from projections import run_projector

    settings = _settings(ctx)
    config = ProjectorConfig(stream=stream, subject_prefix=subject_prefix)

    async def serve(store: PostgresEventStore) -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        # FastStream logs each message at the broker's level; thousands a second belong in
        # DEBUG, while failures are logged by the projections themselves.
        broker = NatsBroker(settings.nats_url, log_level=logging.DEBUG)
        await run_projector(broker, store, stop, config)

    asyncio.run(_with_store(settings, serve))


@projections_app.command()
def rebuild(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="One projection to rebuild; all when omitted.", show_default=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Replay the event store into fresh read-model tables and swap them in."""
    settings = _settings(ctx)
    names = [name] if name else None
    try:
        select_projections(names)
    except UnknownProjection as error:
        raise typer.BadParameter(str(error), param_hint="NAME") from error
    console = Console(stderr=True, highlight=False)
    progress = Progress(
        TextColumn("[bold]Rebuilding[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeRemainingColumn(),
        console=console,
        disable=as_json,
    )

    async def run(store: PostgresEventStore) -> RebuildResult:
        task = progress.add_task(name or "all projections", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        with progress:
            return await rebuild_projections(store, names, on_progress=advance)

    result = asyncio.run(_with_store(settings, run))
    if as_json:
        typer.echo(json.dumps({**asdict(result), "events_per_second": result.events_per_second}))
        return
    typer.echo(
        f"Rebuilt {', '.join(result.projections)}: {result.events} events, "
        f"{result.streams} stream checkpoints in {result.seconds:.1f} s "
        f"({result.events_per_second:,.0f} events/s); "
        f"{result.caught_up} applied at the swap."
    )


@projections_app.command()
def status(
    ctx: typer.Context,
    sample: Annotated[
        float, typer.Option(help="Seconds to sample throughput over (0: skip).", min=0)
    ] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show each projection's lag behind the event store and its events per second."""
    settings = _settings(ctx)

    async def run(store: PostgresEventStore) -> ProjectionStatus:
        return await projection_status(store.pool, all_projections(), sample_seconds=sample)

    result = asyncio.run(_with_store(settings, run))
    data = asdict(result)
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table(title=f"Projections (store head {data['head_position']})")
    for column in ("projection", "streams", "applied", "skipped", "behind", "events/s"):
        table.add_column(column, justify="left" if column == "projection" else "right")
    for lag in data["projections"]:
        rate = lag["events_per_second"]
        table.add_row(
            lag["name"],
            str(lag["streams"]),
            str(lag["events_applied"]),
            str(lag["events_skipped"]),
            str(lag["events_behind"]),
            "-" if rate is None else f"{rate:,.1f}",
        )
    Console(highlight=False).print(table)
