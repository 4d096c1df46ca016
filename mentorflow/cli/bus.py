"""``mentorflow relay`` and ``mentorflow events tail``: the event bus on the command line.

Register in the root app with ``app.command()(relay)`` and
``app.add_typer(events_app, name="events")``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from nats.js.errors import NotFoundError

from bus import close_broker, create_broker, events_filter, run_relay, tail_events
from eventstore import Position
from mentorflow.settings import Settings, load_settings
from mentorflow.shutdown import stop_on_signals

events_app = typer.Typer(name="events", help="Watch the events on the bus.", no_args_is_help=True)


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else load_settings()


def _start_position(from_start: bool, from_position: str | None) -> Position | None:
    if from_start and from_position is not None:
        raise typer.BadParameter("give either --from-start or --from, not both")
    if from_start:
        return Position.START
    if from_position is None:
        return None
    try:
        return Position.parse(from_position)
    except ValueError:
        raise typer.BadParameter(
            f"{from_position!r} is not a position (TRANSACTION_ID:GLOBAL_POSITION)",
            param_hint="--from",
        ) from None


def relay(
    ctx: typer.Context,
    from_start: Annotated[
        bool,
        typer.Option(
            "--from-start",
            help="Re-publish every stored event first (JetStream drops the duplicates it "
            "still holds within its duplicate window).",
        ),
    ] = False,
    from_position: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="TXID:POSITION",
            help="Move the checkpoint to this position first and re-publish from there.",
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="The relay's checkpoint name.")] = "default",
) -> None:
    """Publish every event of the store to NATS JetStream, in order, at least once."""
    from mentorflow.metrics import ALL_READINGS, process_metrics

    settings = _settings(ctx)
    start_from = _start_position(from_start, from_position)

    async def serve() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        async with process_metrics(settings, readings=ALL_READINGS):
            await run_relay(
                settings.database,
                settings.bus_config(),
                stop,
                relay_name=name,
                start_from=start_from,
                options=settings.relay_options(),
            )

    asyncio.run(serve())


@events_app.command("tail")
def tail(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Option(
            help="Subject filter, e.g. 'mentorflow.events.mentorship.>' or "
            "'mentorflow.events.*.ConversationHeld' (default: every event)."
        ),
    ] = None,
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Begin with the oldest event the stream holds.")
    ] = False,
    count: Annotated[int | None, typer.Option(min=1, help="Exit after this many events.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each envelope as one JSON line.")
    ] = False,
) -> None:
    """Print events as they arrive on the bus (one line each)."""
    config = _settings(ctx).bus_config()
    pattern = subject or events_filter(config.subject_prefix)

    async def watch() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        broker = create_broker(config, name="mentorflow-events-tail")
        await broker.connect()
        seen = 0
        try:
            async for event in tail_events(broker, config, pattern, stop, from_start=from_start):
                if as_json:
                    typer.echo(event.body.decode())
                else:
                    envelope = event.envelope()
                    typer.echo(
                        f"{envelope.global_position:>8}  {envelope.recorded_at:%Y-%m-%d %H:%M:%S}"
                        f"  {envelope.stream_id}@{envelope.stream_version}  {envelope.event_type}"
                    )
                seen += 1
                if count is not None and seen >= count:
                    break
        except NotFoundError:
            raise typer.BadParameter(
                f"no stream {config.stream_name} captures {pattern!r} (is the relay running?)",
                param_hint="--subject",
            ) from None
        finally:
            await close_broker(broker)

    asyncio.run(watch())
