"""``mentorflow deadletters list | show | retry | discard``: notifications that failed for good.

A dead letter is an outbox entry the SMTP server refused permanently (5xx), or one that
failed transiently too often (`notifications.RetryPolicy`). ``retry`` makes it due again
with a fresh count of attempts (the notifier sends it at its next pass); ``discard`` gives
it up for good. Neither prints the message body: it may hold personal text.

(The cohort-launch command's dead letters are NATS messages on their own stream,
``MENTORFLOW_COMMANDS_DEADLETTER``, answered on ``mentorflow.deadletter.commands.>``.)

Register in `mentorflow.cli.app`::

    app.add_typer(deadletters_app, name="deadletters")
"""

from __future__ import annotations

import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from eventstore import create_pool
from mentorflow.settings import Settings, load_settings
from notifications import OutboxEntry, PostgresOutbox, migrate_outbox
from notifications.models import OperatorAction

T = TypeVar("T")

deadletters_app = typer.Typer(
    help="Notifications that failed for good: list, show, retry or discard them.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
IdArgument = Annotated[
    int, typer.Argument(metavar="ID", min=1, help="The dead letter's id, from `list`.")
]

PERSONAL = "[personal]"
"""What is shown instead of a personal field (the address, the subject naming people)."""
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
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most to show.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """List the dead letters, most recent first (`show ID` gives the event and address)."""
    entries = _with_outbox(ctx, lambda outbox: outbox.dead_letters(limit))
    if json_output:
        typer.echo("[" + ",".join(_public(entry) for entry in entries) + "]")
        return
    console = Console(highlight=False, soft_wrap=True)
    if not entries:
        console.print("No dead letters: every notification was sent or is still being tried.")
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("dead since", no_wrap=True)
    for column in ("recipient", "channel", "attempts", "last error"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            str(entry.outbox_id),
            _local(entry.updated_at),
            escape(entry.recipient),
            entry.channel.value,
            str(entry.attempts),
            escape(entry.last_error or ""),
        )
    console.print(table)


@deadletters_app.command()
def show(ctx: typer.Context, outbox_id: IdArgument, json_output: JsonOption = False) -> None:
    """Show one notification of the outbox (any state): key, address, subject, failure."""
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


@deadletters_app.command()
def retry(
    ctx: typer.Context, outbox_id: IdArgument, reason: ReasonOption, by: ByOption = None
) -> None:
    """Send a dead letter again: it is due now, with a fresh count of attempts (recorded
    with who and why; asking again after a retry changes nothing)."""
    operator = _operator(by, reason)
    entry = _with_outbox(ctx, lambda outbox: outbox.retry_dead_letter(outbox_id, operator))
    typer.echo(f"Notification {entry.outbox_id} is {entry.state.value}; retried by {operator.by}.")


@deadletters_app.command()
def discard(
    ctx: typer.Context,
    outbox_id: IdArgument,
    reason: ReasonOption,
    by: ByOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Give a dead letter up: it is never sent (a redelivered event does not bring it back);
    recorded with who and why."""
    operator = _operator(by, reason)
    if not yes:
        typer.confirm(f"Discard notification {outbox_id} for good?", abort=True)
    entry = _with_outbox(ctx, lambda outbox: outbox.discard_dead_letter(outbox_id, operator))
    typer.echo(f"Notification {entry.outbox_id} discarded by {operator.by}.")


@deadletters_app.command()
def history(ctx: typer.Context, outbox_id: IdArgument, json_output: JsonOption = False) -> None:
    """Who retried or discarded a dead letter, when and why."""
    actions = _with_outbox(ctx, lambda outbox: outbox.actions(outbox_id))
    if json_output:
        typer.echo(json.dumps([action.model_dump(mode="json") for action in actions], indent=2))
        return
    for action in actions:
        when = _local(action.acted_at)
        typer.echo(f"{when}  {action.action}  by {action.actor}: {action.reason}")
    if not actions:
        typer.echo("Nobody acted on it.")
