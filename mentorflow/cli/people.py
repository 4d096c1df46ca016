"""``mentorflow people import FILE.csv``, ``people forget PERSON_ID`` (crypto-shredding) and
``people rewrap-keys``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from eventstore import Pool, PostgresEventStore, create_pool
from mentorflow.directory import PeopleDirectory, migrate_directory
from mentorflow.directory.csv_file import COLUMNS, MAX_FILE_BYTES, MAX_ROWS
from mentorflow.directory.csv_import import (
    ImportReport,
    PeopleImportInvalid,
    apply_import,
    plan_import,
)
from mentorflow.people import ForgetOutcome, forget_person
from mentorflow.settings import Settings
from notifications import migrate_outbox
from vault import PersonalDataVault

people_app = typer.Typer(
    help="The people directory and people's personal data.", no_args_is_help=True
)

_COLUMNS_HELP = "\n\n".join(f"{name}: {meaning}" for name, meaning in COLUMNS.items())


@people_app.command(
    "import",
    help=(
        "Import people from an HR system's CSV export into the directory.\n\n"
        "A header row names the columns (UTF-8, a BOM is fine); a column left out leaves that "
        "field as it is, an empty cell clears it. Skills, skills wanted and career objectives "
        "are never touched. Columns:\n\n"
        f"{_COLUMNS_HELP}\n\n"
        f"At most {MAX_FILE_BYTES // (1024 * 1024)} MiB and {MAX_ROWS} rows. Every problem is "
        "listed per row (the header is row 1) and nothing is recorded while there is one "
        "(exit 2). Importing the same file again records nothing."
    ),
)
def import_people(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The CSV file.", exists=True, dir_okay=False, readable=True)
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff and the problems; record nothing.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON.")
    ] = False,
) -> None:
    """Import people from a CSV file (the help text is built above, with the columns)."""
    settings: Settings = ctx.obj
    with file.open("rb") as stream:
        content = stream.read(MAX_FILE_BYTES + 1)  # one byte more: the reader names the limit
    report = asyncio.run(_import(settings, content, dry_run=dry_run))
    if json_output:
        typer.echo(report.model_dump_json(indent=2))
    else:
        _print_report(report)
    if report.problems:
        raise PeopleImportInvalid(report.problems)


async def _import(settings: Settings, content: bytes, *, dry_run: bool) -> ImportReport:
    async with store_and_vault(settings) as (pool, vault):
        await migrate_directory(pool)
        directory = PeopleDirectory(pool, vault)
        plan = await plan_import(directory, content)
        if dry_run:
            return plan.report
        if plan.report.problems:
            return plan.report.model_copy(update={"dry_run": False})
        return await apply_import(directory, plan)


def _print_report(report: ImportReport) -> None:
    """The diff for a person: ids and field names, never a value (one line per row)."""
    console = Console(highlight=False, soft_wrap=True)
    for change in report.changes:
        what = []
        if change.new:
            what.append("new")
        elif change.changed_fields:
            what.append("changed: " + ", ".join(change.changed_fields))
        if change.deactivated:
            what.append("deactivated")
        if change.reactivated:
            what.append("reactivated")
        console.print(f"row {change.row}: {escape(change.person_id)}: {'; '.join(what)}")
    planned = sum(len(change.events) for change in report.changes)
    if report.applied:
        outcome = f"recorded {report.events_recorded} events"
    elif report.problems:
        outcome = f"{len(report.problems)} problems: nothing recorded"
    else:
        outcome = f"dry run: would record {planned} events"
    console.print(
        f"{report.rows} rows: {report.new} new, {report.changed} changed, "
        f"{report.deactivated} deactivated, {report.reactivated} reactivated, "
        f"{report.unchanged} unchanged; {outcome}."
    )


@people_app.command()
def forget(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="Participant id, e.g. p-002.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON.")
    ] = False,
) -> None:
    """Forget a person: delete their data key, record PersonForgotten, erase read models.

    Irreversible: their notes, feedback, goals and comments can never be read again.
    Forgetting someone already forgotten changes nothing (exit 0).
    """
    settings: Settings = ctx.obj
    if not yes:
        typer.confirm(
            f"Forget {person_id}? Their personal data becomes unreadable forever", abort=True
        )
    outcome = asyncio.run(_forget(settings, person_id))
    if json_output:
        typer.echo(outcome.model_dump_json(indent=2))
        return
    console = Console(highlight=False)
    if outcome.already_forgotten:
        console.print(
            f"{person_id} was already forgotten on {outcome.forgotten_at:%Y-%m-%d %H:%M}."
        )
        return
    console.print(
        f"Forgot {person_id}: data key {'deleted' if outcome.key_deleted else 'never existed'}, "
        f"{outcome.read_model_values_erased} read-model rows erased, "
        f"PersonForgotten recorded ({outcome.event_id})."
    )


@contextlib.asynccontextmanager
async def store_and_vault(settings: Settings) -> AsyncIterator[tuple[Pool, PersonalDataVault]]:
    """A pool on the store's database (its schema migrated) and the vault over it."""
    master = settings.master_keyring()  # a missing or bad key ring fails before connecting
    pool = await create_pool(settings.database)
    try:
        await PostgresEventStore.open(pool)  # forgetting appends PersonForgotten
        yield pool, await PersonalDataVault.create(pool, master)
    finally:
        await pool.close()


async def _forget(settings: Settings, person_id: str) -> ForgetOutcome:
    async with store_and_vault(settings) as (pool, vault):
        await migrate_outbox(pool)  # forgetting erases the person's notification rows
        return await forget_person(pool, vault, person_id, requested_by="cli")


@people_app.command("rewrap-keys")
def rewrap_keys(ctx: typer.Context) -> None:
    """Re-wrap every person's data key with the active master key (after a rotation), and
    recompute the directory's lookup digests (sign-in by email or id) under it.

    Afterwards the older master keys can be removed from MENTORFLOW_MASTER_KEYS.
    """
    settings: Settings = ctx.obj
    keys, people = asyncio.run(_rewrap(settings))
    active = settings.master_keyring().active_id
    typer.echo(f"Re-wrapped {keys} data keys with master key {active}.")
    typer.echo(f"Recomputed the lookup digests of {people} directory people.")


async def _rewrap(settings: Settings) -> tuple[int, int]:
    async with store_and_vault(settings) as (pool, vault):
        keys = await vault.rewrap()
        await migrate_directory(pool)
        people = await PeopleDirectory(pool, vault).index_people(everyone=True)
        return keys, people
