"""``mentorflow api`` and ``mentorflow tokens add --role ROLE [--person ID]``.

Register in `mentorflow.cli.app`::

    app.command()(api)
    app.add_typer(tokens_app, name="tokens")
"""

from __future__ import annotations

from typing import Annotated

import typer

from mentorflow.api.tokens import PARTICIPANT_ROLES, Role, TokensFileInvalid, add_token
from mentorflow.settings import Settings, load_settings

tokens_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


def api(ctx: typer.Context) -> None:
    """Serve the HTTP API on MENTORFLOW_API_HOST:MENTORFLOW_API_PORT (OpenAPI at /openapi.json),
    with the cohort-launch command consumer of the bus: both are ways in for HR systems."""
    import asyncio

    from mentorflow.services import serve_ways_in

    settings = _settings(ctx)
    try:
        asyncio.run(serve_ways_in(settings))
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(2) from invalid


@tokens_app.command("add")
def add(
    ctx: typer.Context,
    role: Annotated[
        Role,
        typer.Option(
            "--role", help="hr_admin, mentor, mentee, service or ops (codec endpoint only)."
        ),
    ],
    person: Annotated[
        str | None,
        typer.Option("--person", help="The participant id (required for mentor and mentee)."),
    ] = None,
) -> None:
    """Create a token, store its hash in the tokens file and print it once."""
    if role in PARTICIPANT_ROLES and person is None:
        raise typer.BadParameter(f"a {role.value} token needs --person", param_hint="--person")
    settings = _settings(ctx)
    try:
        token = add_token(settings.tokens_file, role, person)
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(1) from invalid
    typer.echo(
        f"Added a {role.value} token"
        + (f" for {person}" if person else "")
        + f" to {settings.tokens_file}. It is shown only now:",
        err=True,
    )
    typer.echo(token)
