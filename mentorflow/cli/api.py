"""``mentorflow api`` and ``mentorflow tokens add | list | revoke``.

Register in `mentorflow.cli.app`::

    app.command()(api)
    app.add_typer(tokens_app, name="tokens")
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from mentorflow.api.tokens import (
    PARTICIPANT_ROLES,
    Role,
    TokenRecord,
    TokensFileInvalid,
    UnknownTokenId,
    add_token,
    hash_token,
    read_tokens,
    revoke_token,
    token_id_of,
)
from mentorflow.settings import Settings, load_settings

tokens_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)

_SHORT_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_ISO_DURATION = TypeAdapter(timedelta)


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    return settings if isinstance(settings, Settings) else load_settings()


def _bad_input(problems: list[str]) -> typer.Exit:
    for problem in problems:
        typer.echo(f"Error: {problem}", err=True)
    return typer.Exit(2)


def api(ctx: typer.Context) -> None:
    """Serve the HTTP API on MENTORFLOW_API_HOST:MENTORFLOW_API_PORT (OpenAPI at /openapi.json),
    with the cohort-launch command consumer of the bus: both are ways in for HR systems."""
    import asyncio

    from mentorflow.metrics import process_metrics, use_temporal_metrics
    from mentorflow.services import serve_ways_in

    settings = _settings(ctx)

    async def serve() -> None:
        async with process_metrics(settings):
            await serve_ways_in(settings)

    use_temporal_metrics(settings)
    try:
        asyncio.run(serve())
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(2) from invalid


def _duration(text: str) -> timedelta | None:
    if match := _SHORT_DURATION.fullmatch(text.strip()):
        return timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        return _ISO_DURATION.validate_python(text.strip())
    except ValidationError:
        return None


def _expiry(expires_in: str | None, expires_at: str | None, problems: list[str]) -> datetime | None:
    now = datetime.now(UTC)
    if expires_in is not None and expires_at is not None:
        problems.append("give --expires-in or --expires-at, not both")
        return None
    if expires_in is not None:
        duration = _duration(expires_in)
        if duration is None or duration <= timedelta(0):
            problems.append(
                f"--expires-in {expires_in!r}: a positive duration such as 30d, 12h, 90m, 2w "
                "or P30D"
            )
            return None
        return now + duration
    if expires_at is not None:
        try:
            moment = datetime.fromisoformat(expires_at)
        except ValueError:
            problems.append(f"--expires-at {expires_at!r}: not an ISO 8601 time")
            return None
        if moment.tzinfo is None:
            problems.append(f"--expires-at {expires_at!r}: needs an offset, e.g. +00:00 or Z")
            return None
        if moment <= now:
            problems.append(f"--expires-at {expires_at!r}: is in the past")
            return None
        return moment
    return None


@tokens_app.command("add")
def add(
    ctx: typer.Context,
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            help="hr_admin, mentor, mentee, service, ops (codec endpoint) or scim (SCIM service).",
        ),
    ],
    person: Annotated[
        str | None,
        typer.Option("--person", help="The participant id (required for mentor and mentee)."),
    ] = None,
    expires_in: Annotated[
        str | None,
        typer.Option("--expires-in", help="Lifetime, e.g. 30d, 12h, 90m, 2w or P30D."),
    ] = None,
    expires_at: Annotated[
        str | None,
        typer.Option("--expires-at", help="Expiry as ISO 8601 with offset."),
    ] = None,
) -> None:
    """Create a token, store its hash in the tokens file and print it once (its id on stderr)."""
    problems: list[str] = []
    if role in PARTICIPANT_ROLES and person is None:
        problems.append(f"--person: a {role.value} token needs --person")
    expiry = _expiry(expires_in, expires_at, problems)
    if problems:
        raise _bad_input(problems)
    settings = _settings(ctx)
    try:
        token = add_token(settings.tokens_file, role, person, expires_at=expiry)
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(1) from invalid
    except ValidationError as invalid:
        raise _bad_input([str(error["msg"]) for error in invalid.errors()]) from invalid
    typer.echo(
        f"Added {token_id_of(hash_token(token))}, a {role.value} token"
        + (f" for {person}" if person else "")
        + (f" expiring {expiry.isoformat(timespec='seconds')}" if expiry else "")
        + f", to {settings.tokens_file}. It is shown only now:",
        err=True,
    )
    typer.echo(token)


def _listed(record: TokenRecord, now: datetime) -> dict[str, object]:
    return {
        "token_id": record.token_id,
        "role": record.role.value,
        "person_id": record.person_id,
        "created_at": record.created_at.isoformat() if record.created_at else None,
        "expires_at": record.expires_at.isoformat() if record.expires_at else None,
        "expired": record.expired(now),
    }


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the tokens as JSON.")] = False,
) -> None:
    """List the tokens: id, role, person, created, expiry (never the tokens or their hashes)."""
    settings = _settings(ctx)
    try:
        records = read_tokens(settings.tokens_file)
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(1) from invalid
    now = datetime.now(UTC)
    rows = [_listed(record, now) for record in records]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = Table(title=f"Tokens in {settings.tokens_file}")
    for column in ("id", "role", "person", "created (UTC)", "expires (UTC)"):
        table.add_column(column, no_wrap=column == "id")
    for record in records:
        expires = _minute(record.expires_at) if record.expires_at else "never"
        table.add_row(
            record.token_id,
            record.role.value,
            record.person_id or "-",
            _minute(record.created_at) if record.created_at else "-",
            expires + (" (expired)" if record.expired(now) else ""),
        )
    Console(highlight=False).print(table)


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_…), from `tokens list`.")],
) -> None:
    """Remove a token from the tokens file; the API refuses it from the next request on."""
    settings = _settings(ctx)
    try:
        record = revoke_token(settings.tokens_file, token_id)
    except UnknownTokenId as unknown:
        typer.echo(
            f"Error: no token has the id {token_id!r} in {settings.tokens_file} "
            "(see `mentorflow tokens list`)",
            err=True,
        )
        raise typer.Exit(2) from unknown
    except TokensFileInvalid as invalid:
        typer.echo(f"Error: {invalid}", err=True)
        raise typer.Exit(1) from invalid
    typer.echo(
        f"Revoked {record.token_id}, a {record.role.value} token"
        + (f" for {record.person_id}" if record.person_id else "")
        + "."
    )
