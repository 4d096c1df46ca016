"""``mentorflow login-link``: a single-use sign-in link to the web console.

Register in `mentorflow.cli.app`::

    app.command("login-link")(login_link)
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import typer

from eventstore import create_pool
from mentorflow.api.codec_sessions import migrate_api_schema
from mentorflow.api.models.identifiers import PERSON_ID_PATTERN
from mentorflow.api.tokens import Role
from mentorflow.console.sessions import LINK_LIFETIME, ConsoleSessionStore
from mentorflow.settings import Settings, load_settings

CONSOLE_ROLES = ("hr_admin", "mentor", "mentee")


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


def login_link(
    ctx: typer.Context,
    person_id: Annotated[
        str | None, typer.Argument(help="The participant to sign in (not with --role hr_admin)")
    ] = None,
    role: Annotated[
        str,
        typer.Option(
            help="hr_admin, mentor or mentee (a participant sees all their own "
            "relationships with either)"
        ),
    ] = "mentee",
    base_url: Annotated[
        str | None,
        typer.Option(help="Where the console is reached; default http://API_HOST:API_PORT"),
    ] = None,
) -> None:
    """Print a sign-in link to the web console: it works once, within 15 minutes."""
    problems: list[str] = []
    if role not in CONSOLE_ROLES:
        problems.append(f"--role must be one of {', '.join(CONSOLE_ROLES)}, not {role!r}")
    elif role == "hr_admin" and person_id is not None:
        problems.append("HR signs in without a PERSON_ID")
    elif role != "hr_admin" and person_id is None:
        problems.append("give the participant's PERSON_ID, or --role hr_admin")
    if person_id is not None and not re.fullmatch(PERSON_ID_PATTERN, person_id):
        problems.append(f"PERSON_ID {person_id!r} is not a participant id")
    if problems:
        for problem in problems:
            typer.echo(f"Error: {problem}", err=True)
        raise typer.Exit(2)
    settings = _settings(ctx)
    token = asyncio.run(create_link(settings, Role(role), person_id))
    base = (base_url or console_url(settings)).rstrip("/")
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    typer.echo(f"{base}/sign-in?token={token}")
    typer.echo(f"Valid once, for {minutes} minutes.", err=True)


def console_url(settings: Settings) -> str:
    """Where the API (and so the console) is reached by default."""
    return f"http://{settings.api_host}:{settings.api_port}"


async def create_link(settings: Settings, role: Role, person_id: str | None) -> str:
    """A fresh single-use sign-in token (stored as a hash), in the settings' database."""
    pool = await create_pool(settings.database)
    try:
        await migrate_api_schema(pool)
        return await ConsoleSessionStore(pool).create_link(role, person_id)
    finally:
        await pool.close()
