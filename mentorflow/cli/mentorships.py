"""``mentorflow mentorship COMMAND MENTORSHIP_ID …``: HR's relationship commands, from the table.

One command per entry of `domain.mentorship.catalog` that HR may make (a participant's
consent and opinions are theirs: not here). Path fields of the entry are arguments after the
relationship id; body fields are options (``--goal-id``, lists repeat the option, a list
of action items takes one JSON object per ``--action-items``). The values are validated
exactly like an HTTP body (`domain.edge.edge_model`), every problem named, and the command
runs as the workflow update the table names, recorded as HR's change (``ChangeMadeByHr``
with the token id ``cli:<user>``).
"""

from __future__ import annotations

import asyncio
import getpass
import inspect
import json
from typing import Annotated, Any, get_args, get_origin

import typer
from pydantic import BaseModel
from rich.console import Console
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.edge import edge_model
from domain.mentorship.catalog import COMMANDS, CommandEntry
from domain.mentorship.commands import Actor
from mentorflow.settings import Settings
from workflows.mentorship import MentorshipWorkflow
from workflows.mentorship_client import execute_command
from workflows.mentorship_models import CommandResult

mentorship_app = typer.Typer(
    name="mentorship",
    help="Change a relationship as HR: the relationship commands of the API.",
    no_args_is_help=True,
)
EXIT_REJECTED = 1


class CommandRefused(Exception):
    """The relationship's rules refused the command; nothing was recorded."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.kind = kind
        self.problems = problems


def _option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


def _is_model_list(annotation: Any) -> bool:
    args = get_args(annotation)
    return _is_list(annotation) and isinstance(args[0], type) and issubclass(args[0], BaseModel)


def _parameter(name: str, annotation: Any, field: Any) -> inspect.Parameter:
    keyword = inspect.Parameter.KEYWORD_ONLY
    help_text = field.description or ""
    if annotation is bool:
        option = typer.Option(_option_name(name) + "/--no-" + name.replace("_", "-"))
        if field.is_required():
            return inspect.Parameter(
                name, keyword, annotation=Annotated[bool | None, option], default=None
            )
        return inspect.Parameter(
            name, keyword, annotation=Annotated[bool, option], default=bool(field.default)
        )
    if _is_list(annotation):
        if _is_model_list(annotation):
            help_text = f"{help_text} (one JSON object per option)".strip()
        option = typer.Option(_option_name(name), help=help_text)
        return inspect.Parameter(
            name, keyword, annotation=Annotated[list[str] | None, option], default=None
        )
    option = typer.Option(_option_name(name), help=help_text, show_default=False)
    return inspect.Parameter(name, keyword, annotation=Annotated[str | None, option], default=None)


def _values(entry: CommandEntry, arguments: dict[str, Any]) -> dict[str, Any]:
    """The command's fields from the CLI's arguments (unset options left to their defaults)."""
    values: dict[str, Any] = {}
    for name, field in entry.command.model_fields.items():
        value = arguments.get(name)
        if name == "actor" or value is None:
            continue
        if _is_model_list(field.annotation):
            try:
                value = [json.loads(item) for item in value]
            except json.JSONDecodeError as error:
                raise typer.BadParameter(
                    f"each value is a JSON object: {error}", param_hint=_option_name(name)
                ) from error
        values[name] = value
    return values


async def _run(settings: Settings, mentorship_id: str, command: Any) -> CommandResult:
    from worker import connect_client

    client = await connect_client(settings)
    handle = client.get_workflow_handle_for(MentorshipWorkflow.run, mentorship_id)
    try:
        return await execute_command(handle, command)
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        if isinstance(cause, ApplicationError) and cause.details:
            problems = [str(problem) for problem in cause.details[0]]
            raise CommandRefused(cause.type or "refused", problems) from failed
        raise CommandRefused("refused", [str(cause or failed)]) from failed


def _command(entry: CommandEntry) -> Any:
    path_fields = entry.path_fields
    body = edge_model(entry.command, frozenset({"actor", *path_fields}))
    keyword = inspect.Parameter.KEYWORD_ONLY

    def run(**arguments: Any) -> None:
        ctx: typer.Context = arguments["ctx"]
        values = _values(entry, arguments)
        edge = body.model_validate({k: v for k, v in values.items() if k not in path_fields})
        path = edge_model(entry.command, frozenset({"actor"})).model_validate(
            {**edge.model_dump(), **{name: arguments[name] for name in path_fields}}
        )
        actor = Actor(role="hr_admin", token_id=f"cli:{getpass.getuser()}")
        command = entry.command.model_validate({**path.model_dump(), "actor": actor})
        try:
            result = asyncio.run(_run(ctx.obj, arguments["mentorship_id"], command))
        except CommandRefused as refused:
            console = Console(stderr=True, highlight=False, soft_wrap=True)
            console.print(f"[bold red]Refused ({refused.kind}), nothing was recorded:[/]")
            for problem in refused.problems:
                console.print(f"  - {problem}", markup=False)
            raise typer.Exit(EXIT_REJECTED) from refused
        if arguments["json_output"]:
            typer.echo(result.model_dump_json(indent=2))
            return
        recorded = ", ".join(result.recorded) or "nothing new"
        line = f"Recorded {recorded} (stream version {result.stream_version})."
        if result.created_ids:
            line += " Created: " + ", ".join(result.created_ids) + "."
        typer.echo(line)

    parameters = [
        inspect.Parameter("ctx", keyword, annotation=typer.Context),
        inspect.Parameter(
            "mentorship_id",
            keyword,
            annotation=Annotated[str, typer.Argument(help="The relationship's workflow id.")],
        ),
        *(
            inspect.Parameter(
                name,
                keyword,
                annotation=Annotated[
                    str,
                    typer.Argument(help=entry.command.model_fields[name].description or name),
                ],
            )
            for name in path_fields
        ),
        *(_parameter(name, field.annotation, field) for name, field in body.model_fields.items()),
        inspect.Parameter(
            "json_output",
            keyword,
            annotation=Annotated[bool, typer.Option("--json", help="Print JSON.")],
            default=False,
        ),
    ]
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__name__ = entry.update
    run.__doc__ = f"{entry.summary}.\n\n{inspect.cleandoc(entry.command.__doc__ or '')}"
    return run


for _entry in COMMANDS:
    if _entry.hr:
        mentorship_app.command(name=_entry.operation)(_command(_entry))
