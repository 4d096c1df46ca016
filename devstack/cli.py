"""``mentorflow stack up | down | status``, ``mail list | show``, ``demo``: developers' commands.

The ``mentorflow`` command line finds them through the ``mentorflow.cli`` entry point
(`extension`, declared in pyproject.toml); the production package imports nothing of here.
The stack commands are a thin layer over `devstack.stack.LocalStack`: they build the
configuration from settings and the state directory, run the operation, and render the
result. Errors propagate to the root app, which turns them into exit codes (the stack's and
the demo's errors are named in `extension`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from devstack.demo import DemoFailed, run_demo
from devstack.mail_cli import mail_app
from devstack.mailbox import MailboxError
from devstack.stack import (
    SERVER_NAMES,
    LocalStack,
    ServerState,
    StackAddresses,
    StackConfig,
    StackConfigInvalid,
    StackError,
    StackStatus,
    redact_password,
)
from mentorflow.cli.extensions import CliExtension
from mentorflow.settings import Settings, load_settings, state_dir

EXIT_CRASHED = 1

stack_app = typer.Typer(
    name="stack",
    help="Run the local Temporal, NATS JetStream, PostgreSQL and SMTP sink servers.",
    no_args_is_help=True,
)

_STATE_STYLES = {
    ServerState.UP: "green",
    ServerState.DOWN: "dim",
    ServerState.CRASHED: "bold red",
    ServerState.UNRESPONSIVE: "yellow",
}

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _console() -> Console:
    # Created per call: CliRunner swaps sys.stdout between invocations.
    return Console(highlight=False, soft_wrap=True)


def _local_stack(
    ctx: typer.Context, *, ui_port: int | None = None, headless: bool = False
) -> LocalStack:
    settings = ctx.obj if isinstance(ctx.obj, Settings) else load_settings()
    config = StackConfig.from_settings(
        settings, state_dir(), temporal_ui_port=ui_port, headless=headless
    )
    return LocalStack(config)


@stack_app.command()
def up(
    ctx: typer.Context,
    ui_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Temporal Web UI port [default: gRPC port + 1000]."),
    ] = None,
    headless: Annotated[bool, typer.Option(help="Run Temporal without its Web UI.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Start each server that is not already reachable, and wait until all are ready."""
    stack = _local_stack(ctx, ui_port=ui_port, headless=headless)
    addresses = asyncio.run(stack.up())
    if json_output:
        typer.echo(addresses.model_dump_json(indent=2))
        return
    _print_addresses(addresses, stack)


def _print_addresses(addresses: StackAddresses, stack: LocalStack) -> None:
    console = _console()
    by_name = {
        "temporal": addresses.temporal_address,
        "nats": redact_password(addresses.nats_url),
        "postgres": redact_password(addresses.database_url),
        "smtp": f"{addresses.smtp_host}:{addresses.smtp_port}",
        "oidc": addresses.oidc_issuer,
    }
    table = Table(box=None, show_header=False, pad_edge=False)
    for name in SERVER_NAMES:
        outcome = "[green]started[/]" if name in addresses.started else "already running"
        table.add_row(name, by_name[name], outcome)
    console.print(table)
    if addresses.temporal_ui_url is not None:
        console.print(f"Temporal Web UI: {addresses.temporal_ui_url}")
    console.print(
        f"Console sign-in: 'Sign in with SSO' through {addresses.oidc_issuer} "
        "(users hr, p-001, p-007)"
    )
    if not addresses.started:
        console.print("Everything was already running; nothing started.")
    console.print(f"Addresses written to {stack.config.env_file}")


@stack_app.command()
def down(ctx: typer.Context) -> None:
    """Stop the servers that `stack up` started; others and all data stay."""
    stopped = asyncio.run(_local_stack(ctx).down())
    console = _console()
    if stopped:
        console.print(f"Stopped {', '.join(stopped)}. Data kept in {state_dir()}.")
    else:
        console.print("Nothing to stop: no server started by `mentorflow stack up` is running.")


@stack_app.command()
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show each server, its address and whether it is up.

    Exits with 1 when a server that `stack up` started has crashed or hangs.
    """
    stack_status = asyncio.run(_local_stack(ctx).status())
    if json_output:
        typer.echo(stack_status.model_dump_json(indent=2))
    else:
        _print_status(stack_status)
    if stack_status.crashed:
        raise typer.Exit(EXIT_CRASHED)


def _print_status(stack_status: StackStatus) -> None:
    console = _console()
    table = Table(box=None, pad_edge=False)
    for column in ("server", "address", "state", "started by stack", "pid"):
        # Fold rather than truncate: a cut-off address is useless to copy.
        table.add_column(column, overflow="fold")
    for server in stack_status.servers:
        style = _STATE_STYLES[server.state]
        table.add_row(
            server.name,
            server.address,
            f"[{style}]{server.state.value}[/]",
            "yes" if server.started_by_stack else "no",
            "" if server.pid is None else str(server.pid),
        )
    console.print(table)
    if stack_status.temporal_ui_url is not None:
        console.print(f"Temporal Web UI: {stack_status.temporal_ui_url}")
    for server in stack_status.crashed:
        how = "" if server.exit_code is None else f" (exit code {server.exit_code})"
        console.print(
            f"[bold red]{server.name} {server.state.value}{how}[/]; see {server.log_path}, "
            "then run `mentorflow stack up` to start it again."
        )


def demo(
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the servers the demo started.")
    ] = False,
) -> None:
    """Run a small cohort end to end through the HTTP API on an accelerated calendar."""
    # The demo narrates; the services' info logs would drown it (MENTORFLOW_LOG_LEVEL wins).
    if "MENTORFLOW_LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.WARNING)
    dashboard = asyncio.run(run_demo(Console(highlight=False, soft_wrap=True), stop=stop))
    typer.echo(
        f"Demo complete: {dashboard['pairs']} pairs, all closed ({dashboard['pairs_by_stage']})."
    )


extension = CliExtension(
    groups={"stack": stack_app, "mail": mail_app},
    commands=(demo,),
    bad_input_errors=(StackConfigInvalid, MailboxError),
    failure_errors=(StackError, DemoFailed),
)
"""What ``mentorflow`` gains from this package (entry point ``mentorflow.cli: devstack``)."""
