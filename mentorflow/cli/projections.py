"""``mentorflow projector`` and ``mentorflow projections rebuild | status | skip``.

Register in `mentorflow.cli.app`::

    app.command()(projector)
    app.add_typer(projections_app, name="projections")
"""

from __future__ import annotations

import asyncio
import getpass
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from eventstore import Pool, PostgresEventStore, create_pool
from mentorflow.settings import Settings, load_settings
from mentorflow.shutdown import stop_on_signals
from projections import (
    ProjectionStatus,
    RebuildResult,
    SkipRecord,
    UnknownProjection,
    all_projections,
    projection_status,
    rebuild_projections,
    select_projections,
    skip_event,
)

T = TypeVar("T")

projections_app = typer.Typer(
    help="Read models: rebuild them from the event store, show their lag.",
    no_args_is_help=True,
)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


async def _with_store(
    settings: Settings, work: Callable[[PostgresEventStore, Pool], Awaitable[T]]
) -> T:
    """Run ``work`` with the store (its schema migrated) and the pool it runs on."""
    pool = await create_pool(settings.database)
    try:
        store = await PostgresEventStore.open(pool)
        try:
            return await work(store, pool)
        finally:
            await store.close()
    finally:
        await pool.close()


def projector(ctx: typer.Context) -> None:
    """Run the projections: tail the event store into the read models.

    Run as many as you like: one process is active per projection, the others stand by.
    """
    from mentorflow.metrics import ALL_READINGS, process_metrics
    from projections import run_projector

    settings = _settings(ctx)

    async def serve(store: PostgresEventStore, _pool: Pool) -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with process_metrics(settings, readings=ALL_READINGS):
            await run_projector(
                store, settings.database_url, stop, options=settings.projector_options()
            )

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

    async def run(store: PostgresEventStore, _pool: Pool) -> RebuildResult:
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

    async def run(_store: PostgresEventStore, pool: Pool) -> ProjectionStatus:
        return await projection_status(pool, all_projections(), sample_seconds=sample)

    result = asyncio.run(_with_store(settings, run))
    data = asdict(result)
    if as_json:
        typer.echo(json.dumps(data))
        return
    table = Table(title=f"Projections (store head {data['head_position']})")
    columns = ("projection", "streams", "applied", "skipped", "behind", "events/s", "state")
    for column in columns:
        table.add_column(column, justify="left" if column in ("projection", "state") else "right")
    for lag in data["projections"]:
        rate = lag["events_per_second"]
        state = (
            "running"
            if lag["stalled_event_id"] is None
            else f"STALLED at event {lag['stalled_event_id']} since {lag['stalled_since']} "
            f"({lag['stalled_attempts']} attempts): {lag['stalled_error']}"
        )
        table.add_row(
            lag["name"],
            str(lag["streams"]),
            str(lag["events_applied"]),
            str(lag["events_skipped"]),
            str(lag["events_behind"]),
            "-" if rate is None else f"{rate:,.1f}",
            state,
        )
    Console(highlight=False, width=200).print(table)


@projections_app.command()
def skip(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The stalled projection.", show_default=False)],
    event_id: Annotated[
        uuid.UUID, typer.Argument(help="The event it cannot apply.", show_default=False)
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is safe to skip (recorded).", show_default=False)
    ],
    skipped_by: Annotated[
        str, typer.Option("--by", help="Who skips it (recorded; default: the OS user).")
    ] = "",
) -> None:
    """Let a projection pass over one event it cannot apply; recorded with who, when and why.

    A rebuild skips the event as well, so the read model stays equal to a rebuild.
    """
    settings = _settings(ctx)
    who = skipped_by or getpass.getuser()

    async def run(_store: PostgresEventStore, pool: Pool) -> SkipRecord:
        return await skip_event(pool, name, event_id, reason, who)

    try:
        record = asyncio.run(_with_store(settings, run))
    except UnknownProjection as error:
        raise typer.BadParameter(str(error), param_hint="NAME") from error
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--reason") from error
    typer.echo(
        f"{record.projection} skips event {record.event_id} "
        f"({record.stream_id}@{record.stream_version}), recorded for {record.skipped_by} "
        f"at {record.skipped_at.isoformat()}."
    )
