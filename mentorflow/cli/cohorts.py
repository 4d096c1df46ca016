"""``mentorflow cohort launch FILE [--wait]``, ``mentorflow cohort status COHORT_ID`` and
``mentorflow cohort matching COHORT_ID``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from domain.cohort_spec import (
    CohortSpec,
    CohortSpecInvalid,
    load_spec_document,
    parse_cohort_spec,
)
from mentorflow.cli.people import store_and_vault
from mentorflow.cohorts import CohortMatching, LaunchResult, launch_cohort, read_matching
from mentorflow.directory import PeopleDirectory
from mentorflow.directory.cohort_specs import has_references, parse_spec_with_directory
from mentorflow.settings import Settings
from workflows.cohort import CohortWorkflow
from workflows.ids import cohort_workflow_id

cohort_app = typer.Typer(
    name="cohort", help="Launch and inspect program cohorts.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
POLL_SECONDS = 0.5


def read_spec_document(path: Path) -> Mapping[str, Any]:
    """Read a JSON or YAML cohort spec (by suffix; YAML also reads JSON) as data, unvalidated.

    Raises:
        CohortSpecInvalid: The file is missing, unreadable, not JSON or YAML, or no mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CohortSpecInvalid([f"{path}: {error.strerror or error}"]) from error
    document = load_spec_document(text, "json" if path.suffix.lower() == ".json" else "yaml")
    if not isinstance(document, Mapping):
        raise CohortSpecInvalid(["document: expected a mapping with cohort_id, program and so on"])
    return document


async def resolve_spec(settings: Settings, document: Mapping[str, Any]) -> CohortSpec:
    """Validate a spec, resolving its references to directory people first (if it has any).

    Raises:
        CohortSpecInvalid: Every problem of the spec and of its references.
        KeyRingInvalid: References need the master keys (to open names and emails).
        DatabaseUnavailable: The database went away.
    """
    if not has_references(document):
        return parse_cohort_spec(document)
    async with store_and_vault(settings) as (pool, vault):
        return await parse_spec_with_directory(document, PeopleDirectory(pool, vault))


@cohort_app.command()
def launch(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Cohort spec, JSON or YAML.")],
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every relationship started.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Launch a cohort: validate the spec, start its workflow once, show the matching.

    Participants may reference people of the directory (``person_id``); they are resolved from
    it first (which needs the database and the master keys).
    """
    settings: Settings = ctx.obj
    document = read_spec_document(file)
    result = asyncio.run(_launch(settings, document, wait=wait and not json_output))
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_launch(result)


async def _launch(settings: Settings, document: Mapping[str, Any], *, wait: bool) -> LaunchResult:
    from worker import connect_client

    spec = await resolve_spec(settings, document)
    client = await connect_client(settings)
    result = await launch_cohort(client, spec, settings.task_queue)
    if wait and not result.outcome.awaiting_approval:
        handle = client.get_workflow_handle_for(CohortWorkflow.run, result.workflow_id)
        total = len(result.outcome.pairs)
        columns = (TextColumn("starting relationships"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns) as progress:
            task = progress.add_task("start", total=total)
            while True:
                state: dict[str, Any] = await handle.query(CohortWorkflow.state)
                started = int(state["relationships"])
                progress.update(task, completed=started)
                if started >= total:
                    break
                await asyncio.sleep(POLL_SECONDS)
    return result


def _print_launch(result: LaunchResult) -> None:
    console = Console(highlight=False, soft_wrap=True)
    verb = "was already launched" if result.already_launched else "launched"
    console.print(f"Cohort {result.cohort_id} {verb} (workflow {result.workflow_id}).")
    outcome = result.outcome
    table = Table(title=f"{len(outcome.pairs)} pairs, total score {outcome.total_score:.3f}")
    for column in ("mentee", "mentor", "score", "reasons"):
        table.add_column(column, overflow="fold")
    for pair in outcome.pairs:
        table.add_row(pair.mentee_id, pair.mentor_id, f"{pair.score:.3f}", "; ".join(pair.reasons))
    console.print(table)
    for unmatched in outcome.unmatched:
        console.print(f"[yellow]unmatched[/] {unmatched.mentee_id}: {unmatched.reason}")
    if outcome.awaiting_approval:
        console.print("Awaiting HR approval of the matches before relationships start.")


@cohort_app.command()
def status(
    ctx: typer.Context,
    cohort_id: Annotated[str, typer.Argument(help="The cohort id.")],
    json_output: JsonOption = False,
) -> None:
    """Show a cohort's progress: relationships per stage, unmatched mentees, rematches."""
    state = asyncio.run(_status(ctx.obj, cohort_id))
    if json_output:
        typer.echo(json.dumps(state, indent=2))
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"Cohort {state['cohort_id']}: {state['stage']}, {state['relationships']} relationships, "
        f"{state['rematches']} rematches"
    )
    table = Table("stage", "relationships")
    for stage, count in state["by_stage"].items():
        table.add_row(stage, str(count))
    console.print(table)
    for mentee_id, reason in state["unmatched"].items():
        console.print(f"[yellow]unmatched[/] {mentee_id}: {reason}")


async def _status(settings: Settings, cohort_id: str) -> dict[str, Any]:
    from worker import connect_client

    client = await connect_client(settings)
    handle = client.get_workflow_handle_for(CohortWorkflow.run, cohort_workflow_id(cohort_id))
    state: dict[str, Any] = await handle.query(CohortWorkflow.state)
    return state


@cohort_app.command()
def matching(
    ctx: typer.Context,
    cohort_id: Annotated[str, typer.Argument(help="The cohort id.")],
    json_output: JsonOption = False,
) -> None:
    """Show a cohort's draft or final matching: each pair's score and its parts, the reasons,
    and every unmatched mentee with the reason."""
    result = asyncio.run(_matching(ctx.obj, cohort_id))
    if json_output:
        typer.echo(result.model_dump_json(indent=2))
        return
    print_matching(result, Console(highlight=False, soft_wrap=True))


async def _matching(settings: Settings, cohort_id: str) -> CohortMatching:
    from worker import connect_client

    return await read_matching(await connect_client(settings), cohort_id)


BREAKDOWN_PARTS = ("skills", "objectives", "personality", "logistics")


def print_matching(result: CohortMatching, console: Console) -> None:
    """The matching as a table: one row a pair, with the parts of its score."""
    table = Table(
        title=f"Cohort {result.cohort_id}: {result.status} matching, {len(result.pairs)} pairs, "
        f"total score {result.total_score:.3f}"
    )
    table.add_column("mentee", overflow="fold")
    table.add_column("mentor", overflow="fold")
    for number in ("score", *BREAKDOWN_PARTS):
        table.add_column(number, justify="right")
    table.add_column("reasons", overflow="fold")
    for pair in result.pairs:
        parts = (
            [f"{getattr(pair.breakdown, part):.3f}" for part in BREAKDOWN_PARTS]
            if pair.breakdown is not None
            else ["-"] * len(BREAKDOWN_PARTS)
        )
        reasons = "; ".join(pair.reasons) + (" [HR]" if pair.chosen_by_hr else "")
        table.add_row(pair.mentee_id, pair.mentor_id, f"{pair.score:.3f}", *parts, reasons)
    console.print(table)
    for unmatched in result.unmatched:
        console.print(f"[yellow]unmatched[/] {unmatched.mentee_id}: {unmatched.reason}")
    if result.solver is not None:
        solver = result.solver
        console.print(
            f"Solver: {solver.method}, {solver.rounds} rounds, "
            f"{solver.candidate_pairs} candidate pairs."
        )
    if result.status == "draft":
        console.print("Draft: awaiting HR approval before relationships start.")
