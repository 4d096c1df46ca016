"""Which fields of an event are personal data, and how a sealed value looks.

Free text people write about themselves or each other (goals, motivation, feedback, notes,
comments, summaries) is personal. Such a field is declared with a `PersonalData` marker
naming whose data it is: ``"mentee"`` or ``"mentor"`` of the relationship, or the name of a
field of the same event holding a person id (``"person_id"``). Ids, stages, dates, counts,
skills and system-written reasons stay clear, so projections and analytics keep working.

In the event store and on the bus a personal value is a *sealed token*,
``sealed:v2:<person id>:<base64url event id ‖ ciphertext>``, encrypted with that person's data
key (see the ``vault`` package) and bound to its place: the person, the stream, the event and
the field path (``GoalSet.description``, ``ConversationHeld.action_items.description``), so a
token copied into another event or field does not open. ``sealed:v1:`` tokens, bound to the
person only, were written before and still open, but only in their declared field.
Forgetting a person deletes the key, which makes every copy of their
tokens (store, bus, backups, read models) unreadable; a token that cannot be opened reads as
`ERASED`. Empty strings are not sealed: that a field is empty is not personal, and counts
such as "feedback given" stay correct.

This module only describes: it imports no cryptography and does no I/O.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field

SEALED_PREFIX = "sealed:v"
"""What every sealed token starts with, whatever its version."""
SEALED_V1 = "sealed:v1:"
SEALED_V2 = "sealed:v2:"
ERASED = "[erased]"
"""What a personal value reads as once its person has been forgotten."""

_TOKEN = re.compile(r"^sealed:v([12]):([A-Za-z0-9._@-]{1,128}):([A-Za-z0-9_-]+)$")


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Marks a field as personal data of ``of``: ``"mentee"``, ``"mentor"`` or a field name."""

    of: str


MenteeText = Annotated[
    str, PersonalData("mentee"), Field(json_schema_extra={"x-personal-data": "mentee"})
]
"""Free text that is the mentee's personal data."""
MentorText = Annotated[
    str, PersonalData("mentor"), Field(json_schema_extra={"x-personal-data": "mentor"})
]
"""Free text that is the mentor's personal data."""
AuthorText = Annotated[
    str, PersonalData("person_id"), Field(json_schema_extra={"x-personal-data": "person_id"})
]
"""Free text that is the personal data of the event's ``person_id``."""


@dataclass(frozen=True, slots=True)
class SealedToken:
    """The parts of a sealed value."""

    person_id: str
    ciphertext: str
    version: int = 2


def parse_token(value: str) -> SealedToken | None:
    """The token's parts, or None when ``value`` is not a sealed token."""
    if not value.startswith(SEALED_PREFIX):
        return None
    match = _TOKEN.match(value)
    if match is None:
        return None
    return SealedToken(match.group(2), match.group(3), int(match.group(1)))


def format_token(person_id: str, ciphertext: str, version: int = 2) -> str:
    """A sealed token (``ciphertext`` already base64url without padding)."""
    return f"sealed:v{version}:{person_id}:{ciphertext}"


# -- where the personal fields of a model are ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    """A personal string (or list of them, or optional one) belonging to ``of``."""

    of: str


@dataclass(frozen=True, slots=True)
class Nested:
    """A model (or list of models) with personal fields of its own."""

    plan: Plan


Plan = Mapping[str, Leaf | Nested]
"""Personal fields of a model by field name; fields without personal data are absent."""


@cache
def plan_of(model: type[BaseModel]) -> Plan:
    """Where ``model``'s personal fields are (computed once per class)."""
    plan: dict[str, Leaf | Nested] = {}
    for name, info in model.model_fields.items():
        marker = next((item for item in info.metadata if isinstance(item, PersonalData)), None)
        if marker is None:
            marker = _marker_inside(info.annotation)
        if marker is not None:
            plan[name] = Leaf(marker.of)
            continue
        nested = _model_inside(info.annotation)
        if nested is not None and plan_of(nested):
            plan[name] = Nested(plan_of(nested))
    return plan


def _members(annotation: Any) -> Iterator[Any]:
    """The annotation and what it wraps: list items, union members, Annotated metadata."""
    yield annotation
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from annotation.__metadata__
        yield from _members(get_args(annotation)[0])
    elif origin in (list, tuple, Union, types.UnionType):
        for argument in get_args(annotation):
            yield from _members(argument)


def _marker_inside(annotation: Any) -> PersonalData | None:
    return next((item for item in _members(annotation) if isinstance(item, PersonalData)), None)


def _model_inside(annotation: Any) -> type[BaseModel] | None:
    return next(
        (
            item
            for item in _members(annotation)
            if isinstance(item, type) and issubclass(item, BaseModel)
        ),
        None,
    )


Change = Callable[[str, str, str], str]
"""``change(value, person_id, field_path)`` → the value to put in its place."""


def transform_personal(
    data: Mapping[str, Any],
    plan: Plan,
    change: Change,
    subjects: Mapping[str, str],
    path: str = "",
) -> dict[str, Any]:
    """A copy of JSON ``data`` with ``change(value, person_id, path)`` applied to each
    non-empty personal string, in a fixed order (the plan's, then list order).

    ``subjects`` maps ``"mentee"``/``"mentor"`` to person ids; a field-name owner is read
    from ``data`` itself (nested models inherit the enclosing subjects). ``path`` is the
    dotted field path of ``data`` (the event type at the top), without list indexes:
    ``ConversationHeld.action_items.description``.

    Raises:
        KeyError: The owner of a non-empty personal value is unknown.
    """
    scope = {**subjects, **{key: value for key, value in data.items() if isinstance(value, str)}}
    result = dict(data)
    for name, spec in plan.items():
        value = data.get(name)
        if value is None:
            continue
        field_path = f"{path}.{name}" if path else name
        if isinstance(spec, Leaf):
            result[name] = _each_string(
                value, partial(_change_for, change, scope.get(spec.of), spec.of, field_path)
            )
        else:
            result[name] = _each_mapping(
                value,
                partial(
                    _transform_nested, plan=spec.plan, change=change, scope=scope, path=field_path
                ),
            )
    return result


def _change_for(change: Change, person_id: str | None, of: str, path: str, text: str) -> str:
    if person_id is None:
        raise KeyError(of)
    return change(text, person_id, path)


def _transform_nested(
    item: Mapping[str, Any],
    *,
    plan: Plan,
    change: Change,
    scope: Mapping[str, str],
    path: str,
) -> dict[str, Any]:
    return transform_personal(item, plan, change, scope, path)


def _each_string(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value) if value else value
    if isinstance(value, list):
        return [_each_string(item, change) for item in value]
    return value


def _each_mapping(value: Any, change: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Any:
    if isinstance(value, Mapping):
        return change(value)
    if isinstance(value, list):
        return [_each_mapping(item, change) for item in value]
    return value


def tokens_in(value: Any) -> Iterator[SealedToken]:
    """Every sealed token anywhere in a JSON-like value (strings, lists, tuples, mappings)."""
    if isinstance(value, str):
        token = parse_token(value)
        if token is not None:
            yield token
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from tokens_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from tokens_in(item)


def replace_tokens(value: Any, open_token: Callable[[SealedToken], str]) -> Any:
    """A copy of a JSON-like value with each sealed token replaced by ``open_token(token)``."""
    if isinstance(value, str):
        token = parse_token(value)
        return value if token is None else open_token(token)
    if isinstance(value, Mapping):
        return {key: replace_tokens(item, open_token) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_tokens(item, open_token) for item in value]
    if isinstance(value, tuple):
        return tuple(replace_tokens(item, open_token) for item in value)
    return value
