"""``mentorflow deadletters list | show | retry | discard | history``: what failed for good.

Three kinds, named as `mentorflow.dead_letter_listing` says (``12``, ``command:7``,
``projection:NAME:EVENT_ID``):

- a notification the SMTP server refused permanently (5xx), or that failed transiently too
  often (`notifications.RetryPolicy`). ``retry`` makes it due again with a fresh count of
  attempts (the notifier sends it at its next pass); ``discard`` gives it up for good;
- a cohort-launch command parked on ``MENTORFLOW_COMMANDS_DEADLETTER``. ``retry`` sends it
  again (once, however often asked); ``discard`` deletes it
  (`mentorflow.command_dead_letters`);
- a projection stalled at an event, or an event an operator skipped: shown only;
  ``mentorflow projections skip`` is the way past a stall.

Nothing personal is printed: addresses, subjects, names in a spec show as ``[personal]``,
message bodies never.

Register in `mentorflow.cli.app`::

    app.add_typer(deadletters_app, name="deadletters")
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import nats
import typer
from nats.aio.client import Client as NatsClient
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eventstore import Pool, create_pool
from mentorflow.dead_letter_errors import (
    CommandDeadLettersUnavailable,
    ProjectionDeadLetterNotFound,
)
from mentorflow.dead_letter_listing import (
    DeadLetter,
    Reference,
    all_dead_letters,
    command_row,
    parse_reference,
    projection_refusal,
    projection_rows,
)
from mentorflow.dead_letter_masking import PERSONAL
from mentorflow.settings import Settings, load_settings
from notifications import OutboxEntry, PostgresOutbox, migrate_outbox
from notifications.models import OperatorAction, RecordedAction

if TYPE_CHECKING:  # the bus takes seconds to import: only commands that need it do
    from mentorflow.command_dead_letters import CommandDeadLetters

T = TypeVar("T")

deadletters_app = typer.Typer(
    help="Notifications, launch commands and projection events that failed for good.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
IdArgument = Annotated[
    int, typer.Argument(metavar="ID", min=1, help="The notification's id, from `list`.")
]


def _reference(text: str) -> Reference:
    try:
        return parse_reference(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


ReferenceArgument = Annotated[
    Reference,
    typer.Argument(
        metavar="ID",
        parser=_reference,
        help="The dead letter, from `list`: ID, command:SEQUENCE or projection:NAME:EVENT_ID.",
    ),
]

ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded with your name).")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who acts (recorded); the OS user by default."),
]

# What an operator needs to act, without the body (personal text); the address and the
# subject are masked (`PERSONAL`).
_PUBLIC_FIELDS = {
    "outbox_id",
    "event_id",
    "recipient",
    "channel",
    "state",
    "attempts",
    "last_error",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "sent_at",
}


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


def _with_outbox(ctx: typer.Context, work: Callable[[PostgresOutbox], Awaitable[T]]) -> T:
    settings = _settings(ctx)

    async def run() -> T:
        pool = await create_pool(settings.database)
        try:
            await migrate_outbox(pool)
            return await work(PostgresOutbox(pool))
        finally:
            await pool.close()

    return asyncio.run(run())


def _with_commands(
    ctx: typer.Context,
    work: Callable[[Pool, CommandDeadLetters | None], Awaitable[T]],
    *,
    required: bool,
) -> T:
    """Run ``work`` with the database and the command dead letters (None when NATS cannot be
    reached and they are not ``required``: the listing says so and shows the rest)."""
    from mentorflow.command_dead_letters import CommandDeadLetters

    settings = _settings(ctx)

    async def run() -> T:
        pool = await create_pool(settings.database)
        try:
            await migrate_outbox(pool)
            try:
                connection = await _connect(settings.nats_url)
            except Exception as error:
                if required:
                    raise CommandDeadLettersUnavailable(type(error).__name__) from error
                typer.echo(
                    f"Command dead letters left out: NATS unreachable ({type(error).__name__}).",
                    err=True,
                )
                return await work(pool, None)
            try:
                return await work(
                    pool, CommandDeadLetters(connection, pool, settings.commands_config())
                )
            finally:
                await connection.close()
        finally:
            await pool.close()

    return asyncio.run(run())


def _public(entry: OutboxEntry) -> str:
    masked = entry.model_dump(mode="json", include=_PUBLIC_FIELDS)
    masked.update(address=PERSONAL, subject=PERSONAL)
    return json.dumps(masked, indent=2)


def _operator(by: str | None, reason: str) -> OperatorAction:
    """Who acts and why; bad values are refused naming every problem."""
    problems: list[str] = []
    actor = by if by is not None else getpass.getuser()
    if not actor.strip():
        problems.append("--by: name who acts")
    if not reason.strip():
        problems.append("--reason: say why")
    if problems:
        raise typer.BadParameter("; ".join(problems))
    return OperatorAction(by=actor.strip(), reason=reason.strip())


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


@deadletters_app.command("list")
def list_dead_letters(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most of each kind.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """List the dead letters of every kind, most recent first (`show ID` gives details)."""
    rows = _with_commands(
        ctx, lambda pool, commands: all_dead_letters(pool, commands, limit), required=False
    )
    if json_output:
        typer.echo(json.dumps([row.as_json() for row in rows], indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    if not rows:
        console.print("No dead letters: every notification was sent or is still being tried.")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("since", no_wrap=True)
    for column in ("about", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            escape(str(row.reference)),
            row.reference.kind,
            _local(row.since),
            escape(row.summary),
            escape(row.error),
        )
    console.print(table)


@deadletters_app.command()
def show(ctx: typer.Context, reference: ReferenceArgument, json_output: JsonOption = False) -> None:
    """Show one dead letter, masked: a notification (any state), a parked command (its
    cohort and participant ids, its problems) or a projection's stall or skip."""
    if reference.kind == "notification":
        _show_notification(ctx, int(reference.id), json_output)
        return
    row = _with_commands(ctx, lambda pool, commands: _row(pool, commands, reference), required=True)
    if json_output:
        typer.echo(json.dumps(row.as_json(), indent=2))
        return
    lines = [f"Id: {row.reference}", f"Since: {_local(row.since)}", f"About: {row.summary}"]
    lines += [f"Error: {row.error or '-'}"]
    lines += [f"{name}: {json.dumps(value)}" for name, value in row.details.items()]
    if not row.actionable:
        lines.append(f"Read-only here: {projection_refusal(reference)}")
    typer.echo("\n".join(lines))


async def _row(pool: Pool, commands: CommandDeadLetters | None, reference: Reference) -> DeadLetter:
    if reference.kind == "command":
        assert commands is not None  # required
        return command_row(await commands.get(int(reference.id)))
    for row in await projection_rows(pool, 10_000):
        if row.reference == reference:
            return row
    raise ProjectionDeadLetterNotFound(str(reference))


def _show_notification(ctx: typer.Context, outbox_id: int, json_output: bool) -> None:
    entry = _with_outbox(ctx, lambda outbox: outbox.entry(outbox_id))
    if json_output:
        typer.echo(_public(entry))
        return
    lines = [
        f"Id: {entry.outbox_id}",
        f"State: {entry.state.value}",
        f"Event: {entry.event_id}",
        f"Recipient: {entry.recipient} <{PERSONAL}> by {entry.channel.value}",
        f"Subject: {PERSONAL}",
        f"Attempts: {entry.attempts}",
        f"Last error: {entry.last_error or '-'}",
        f"Recorded: {_local(entry.created_at)}",
        f"Changed: {_local(entry.updated_at)}",
    ]
    typer.echo("\n".join(lines))


def _refuse_projection(reference: Reference) -> None:
    if reference.kind == "projection":
        raise typer.BadParameter(projection_refusal(reference))


@deadletters_app.command()
def retry(
    ctx: typer.Context, reference: ReferenceArgument, reason: ReasonOption, by: ByOption = None
) -> None:
    """Retry a dead letter (recorded with who and why; asking again changes nothing): a
    notification is due again with a fresh count of attempts; a command is sent again to
    the launch subject, once however often asked."""
    _refuse_projection(reference)
    operator = _operator(by, reason)
    if reference.kind == "command":
        sequence = int(reference.id)
        done = _with_commands(
            ctx, lambda _, commands: _commands(commands).retry(sequence, operator), required=True
        )
        state = "sent again" if done.changed else "already retried: nothing changed"
        typer.echo(f"Command {sequence} {state}; by {operator.by}.")
        return
    outbox_id = int(reference.id)
    entry = _with_outbox(ctx, lambda outbox: outbox.retry_dead_letter(outbox_id, operator))
    typer.echo(f"Notification {entry.outbox_id} is {entry.state.value}; retried by {operator.by}.")


@deadletters_app.command()
def discard(
    ctx: typer.Context,
    reference: ReferenceArgument,
    reason: ReasonOption,
    by: ByOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Give a dead letter up, recorded with who and why: a notification is never sent (a
    redelivered event does not bring it back); a command is deleted from the stream."""
    _refuse_projection(reference)
    operator = _operator(by, reason)
    if not yes:
        typer.confirm(f"Discard {reference.kind} {reference.id} for good?", abort=True)
    if reference.kind == "command":
        sequence = int(reference.id)
        _with_commands(
            ctx, lambda _, commands: _commands(commands).discard(sequence, operator), required=True
        )
        typer.echo(f"Command {sequence} discarded by {operator.by}.")
        return
    outbox_id = int(reference.id)
    entry = _with_outbox(ctx, lambda outbox: outbox.discard_dead_letter(outbox_id, operator))
    typer.echo(f"Notification {entry.outbox_id} discarded by {operator.by}.")


@deadletters_app.command()
def history(
    ctx: typer.Context, reference: ReferenceArgument, json_output: JsonOption = False
) -> None:
    """Who retried or discarded a dead letter, when and why."""
    _refuse_projection(reference)
    actions: list[RecordedAction]
    if reference.kind == "command":
        sequence = int(reference.id)
        actions = _with_commands(
            ctx, lambda _, commands: _commands(commands).actions(sequence), required=True
        )
    else:
        outbox_id = int(reference.id)
        actions = _with_outbox(ctx, lambda outbox: outbox.actions(outbox_id))
    if json_output:
        typer.echo(json.dumps([action.model_dump(mode="json") for action in actions], indent=2))
        return
    for action in actions:
        when = _local(action.acted_at)
        typer.echo(f"{when}  {action.action}  by {action.actor}: {action.reason}")
    if not actions:
        typer.echo("Nobody acted on it.")


async def _connect(url: str) -> NatsClient:
    """NATS, or TimeoutError after 5 seconds: nats-py keeps trying a refused first connect
    every two seconds whatever its reconnect options say."""

    async def quiet(_: Exception) -> None:
        """The failure is reported once, by the caller; nats-py would log each try."""

    return await asyncio.wait_for(
        nats.connect(
            url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3, error_cb=quiet
        ),
        timeout=5,
    )


def _commands(commands: CommandDeadLetters | None) -> CommandDeadLetters:
    assert commands is not None  # `required=True` raises instead of passing None
    return commands
