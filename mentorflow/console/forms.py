"""HTML forms in, domain commands out; problems back next to the field that caused them.

A console form posts the fields of one command of the command table
(`domain.mentorship.catalog`). `read_command` turns the form into the command's values (dates
typed in the viewer's time zone become aware datetimes, lists come from checkboxes or comma
separated text, the action plan from its rows), validates them with the same edge model the
API validates its request bodies with (`domain.edge.edge_model`), and builds the command.
The pydantic errors of that model, and later the rules' problems (`CommandRejected`), are
sorted by field (`FieldProblems`), so that the page shows each next to its input.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ValidationError
from starlette.datastructures import FormData

from domain.edge import edge_model
from domain.mentorship.catalog import CommandEntry
from domain.mentorship.commands import Command
from mentorflow.api.errors import ApiError, CommandRejected

GENERAL = "_form"
"""Where a problem goes that names no field."""
ACTION_ITEM_ROWS = 3
"""Rows of the action-plan part of the conversation form (rows left empty are ignored)."""
_ROW_FIELDS = ("owner", "description", "due_at")

# Rule problems that name a field by its meaning rather than by its name.
_PHRASES = (
    ("action plan", "action_items"),
    ("mentee's goals", "goal_ids"),
)


@dataclass
class FieldProblems:
    """Problems of one submitted form, by field, in the words shown to the person."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """Add a problem of field ``name`` (`GENERAL` for the whole form)."""
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)


class FormInvalid(Exception):
    """The form cannot make a command: every problem, by field."""

    def __init__(self, problems: FieldProblems) -> None:
        super().__init__("the form is invalid")
        self.problems = problems


def _unwrap(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [inner for arg in get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _is_datetime(annotation: Any) -> bool:
    # pydantic's AwareDatetime is a marker class of its own, not a datetime subclass.
    return any(
        kind is AwareDatetime or (isinstance(kind, type) and issubclass(kind, datetime))
        for kind in _unwrap(annotation)
    )


def _is_list(annotation: Any) -> bool:
    return any(get_origin(kind) is list for kind in _unwrap(annotation))


def local_datetime(text: str, zone: str) -> datetime | str:
    """A ``datetime-local`` input's value in the viewer's zone, as an aware datetime; the text
    itself when it is not a date (the model then names the problem)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment


def _action_items(form: FormData, zone: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for row in range(ACTION_ITEM_ROWS):
        values = {name: str(form.get(f"action_items-{row}-{name}") or "") for name in _ROW_FIELDS}
        if not values["description"].strip() and not values["due_at"]:
            continue  # an empty row
        item: dict[str, Any] = {"owner": values["owner"], "description": values["description"]}
        if values["due_at"]:
            item["due_at"] = local_datetime(values["due_at"], zone)
        items.append(item)
    return items


def form_values(
    command: type[Command], form: FormData, zone: str, exclude: frozenset[str]
) -> dict[str, Any]:
    """The command's values in a submitted form (absent or empty optional inputs: defaults)."""
    values: dict[str, Any] = {}
    for name, info in command.model_fields.items():
        if name in exclude:
            continue
        if name == "action_items":
            values[name] = _action_items(form, zone)
            continue
        raw = [str(value) for value in form.getlist(name)]
        if _is_list(info.annotation):
            parts = [part.strip() for value in raw for part in value.split(",")]
            values[name] = [part for part in parts if part]
        elif not raw or not raw[0].strip():
            continue
        elif _is_datetime(info.annotation):
            values[name] = local_datetime(raw[0], zone)
        else:
            values[name] = raw[0]
    return values


def _problem_field(loc: tuple[int | str, ...], names: set[str]) -> str:
    return str(loc[0]) if loc and str(loc[0]) in names else GENERAL


def _describe(loc: tuple[int | str, ...], message: str) -> str:
    if len(loc) >= 3 and loc[0] == "action_items" and isinstance(loc[1], int):
        return f"Action item {loc[1] + 1}, {str(loc[2]).replace('_', ' ')}: {message}"
    if len(loc) >= 2 and isinstance(loc[1], int):
        return f"Entry {loc[1] + 1}: {message}"
    return message


def read_command(
    entry: CommandEntry, form: FormData, zone: str, path_values: dict[str, Any]
) -> Command:
    """The command a form asks for, validated as the API validates its bodies.

    Raises:
        FormInvalid: Every problem of the form, by field.
    """
    exclude = frozenset({"actor", *path_values})
    values = {**form_values(entry.command, form, zone, exclude), **path_values}
    model: type[BaseModel] = edge_model(entry.command, frozenset({"actor"}))
    try:
        checked = model.model_validate(values)
    except ValidationError as invalid:
        problems = FieldProblems()
        names = set(entry.command.model_fields)
        for error in invalid.errors():
            loc = tuple(error["loc"])
            problems.add(_problem_field(loc, names), _describe(loc, error["msg"]))
        raise FormInvalid(problems) from invalid
    return entry.command.model_validate(checked.model_dump())


def refusal_problems(command: type[Command], refusal: FormInvalid | ApiError) -> FieldProblems:
    """Why a form's command did not go through, by field: the form's own problems, the
    rules' (`CommandRejected`), or any other refusal (forbidden, conflict, unavailable) as a
    general one. A `NotFound` is the caller's to answer (a 404 page), before this."""
    if isinstance(refusal, FormInvalid):
        return refusal.problems
    if isinstance(refusal, CommandRejected):
        return sort_problems(command, refusal.problems or [refusal.message])
    problems = FieldProblems()
    problems.add(GENERAL, refusal.message)
    return problems


def sort_problems(command: type[Command], problems: list[str]) -> FieldProblems:
    """The rules' problems (`CommandRejected.problems`) by the field each names."""
    names = sorted(command.model_fields, key=len, reverse=True)
    sorted_problems = FieldProblems()
    for problem in problems:
        sorted_problems.add(problem_field(problem, names), problem)
    return sorted_problems


def problem_field(problem: str, names: list[str]) -> str:
    """The field a rule's problem is about: named first (``held_at is in the future``,
    ``action_items[0].due_at …``), or by meaning (``… an action plan …``)."""
    for name in names:
        if re.match(rf"{re.escape(name)}\b", problem):
            return name
    for phrase, name in _PHRASES:
        if phrase in problem and name in names:
            return name
    return GENERAL
