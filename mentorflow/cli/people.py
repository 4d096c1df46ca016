"""``mentorflow people forget PERSON_ID`` (crypto-shredding) and ``people rewrap-keys``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import typer
from rich.console import Console

from eventstore import Pool, PostgresEventStore, create_pool
from mentorflow.people import ForgetOutcome, forget_person
from mentorflow.settings import Settings
from notifications import migrate_outbox
from vault import PersonalDataVault

people_app = typer.Typer(help="People's personal data.", no_args_is_help=True)


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
async def _vault(settings: Settings) -> AsyncIterator[tuple[Pool, PersonalDataVault]]:
    """A pool on the store's database (its schema migrated) and the vault over it."""
    master = settings.master_keyring()  # a missing or bad key ring fails before connecting
    pool = await create_pool(settings.database)
    try:
        await PostgresEventStore.open(pool)  # forgetting appends PersonForgotten
        yield pool, await PersonalDataVault.create(pool, master)
    finally:
        await pool.close()


async def _forget(settings: Settings, person_id: str) -> ForgetOutcome:
    async with _vault(settings) as (pool, vault):
        await migrate_outbox(pool)  # forgetting erases the person's notification rows
        return await forget_person(pool, vault, person_id, requested_by="cli")


@people_app.command("rewrap-keys")
def rewrap_keys(ctx: typer.Context) -> None:
    """Re-wrap every person's data key with the active master key (after a rotation).

    Afterwards the older master keys can be removed from MENTORFLOW_MASTER_KEYS.
    """
    settings: Settings = ctx.obj
    count = asyncio.run(_rewrap(settings))
    typer.echo(
        f"Re-wrapped {count} data keys with master key {settings.master_keyring().active_id}."
    )


async def _rewrap(settings: Settings) -> int:
    async with _vault(settings) as (_pool, vault):
        return await vault.rewrap()
