"""Commands as they arrive from outside: request bodies and CLI options.

Commands check types only, so that the workflow's rules can name every problem of a command
sent straight to it (`domain.mentorship.decisions`). A field may declare, with `AtEdge`, the
stricter annotation it takes where it arrives from outside (lengths, list sizes, safe text,
id patterns): `edge_model` derives from a command the model an HTTP body or a CLI
invocation is validated with, so the edge refuses early what the rules would refuse later,
and the OpenAPI document shows the limits.
"""

from __future__ import annotations

import functools
import operator
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo

from domain.cohort_spec import PARTICIPANT_ID_PATTERN
from domain.text import Label, LocalId, SafeText, ShortText


@dataclass(frozen=True, slots=True)
class AtEdge:
    """The annotation a command field takes where it arrives from outside (inert inside)."""

    annotation: Any


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@functools.cache
def edge_model(model: type[BaseModel], exclude: frozenset[str] = frozenset()) -> type[BaseModel]:
    """``model`` as it arrives from outside: its fields less ``exclude``, each with the
    annotation it declares for the edge, unknown fields refused, same name and docs.

    Cached: one class per model and exclusion, so the OpenAPI document names each once.
    """
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in exclude:
            continue
        edge = next((meta for meta in field.metadata if isinstance(meta, AtEdge)), None)
        annotation = edge_annotation(field.annotation if edge is None else edge.annotation)
        info = FieldInfo.merge_field_infos(
            field, metadata=[meta for meta in field.metadata if not isinstance(meta, AtEdge)]
        )
        fields[name] = (annotation, info)
    built: type[BaseModel] = create_model(
        model.__name__, __base__=_Body, __doc__=model.__doc__, __module__=__name__, **fields
    )
    return built


def edge_annotation(annotation: Any) -> Any:
    """``annotation`` with every model in it replaced by its `edge_model`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return edge_model(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return Annotated[(edge_annotation(args[0]), *annotation.__metadata__)]
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, (edge_annotation(arg) for arg in args))
    if origin is list:
        return list[edge_annotation(args[0])]  # type: ignore[misc]
    return annotation


# The kinds of command fields, inert inside the domain, strict at the edge.
PersonIdText = Annotated[str, StringConstraints(pattern=rf"^{PARTICIPANT_ID_PATTERN}$")]
Text = Annotated[str, AtEdge(SafeText)]
"""Free text (descriptions, notes, comments): at the edge up to 4,000 safe characters."""
Short = Annotated[str, AtEdge(ShortText)]
"""A short reason: at the edge up to 200 safe characters."""
Name = Annotated[str, AtEdge(Label)]
"""A skill or module: at the edge a non-empty label of up to 100 safe characters."""
ItemId = Annotated[str, AtEdge(LocalId)]
"""A goal, action item, challenge or review cycle id."""
Percent = Annotated[int, AtEdge(Annotated[int, Field(ge=0, le=100)])]
Rating = Annotated[int, AtEdge(Annotated[int, Field(ge=1, le=5)])]
OptionalRating = Annotated[int | None, AtEdge(Annotated[int, Field(ge=1, le=5)] | None)]
