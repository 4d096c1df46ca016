"""The HTTP routes of the relationship commands, generated from the command table.

One ``POST /mentorships/{mentorship_id}…`` route per entry of `domain.mentorship.catalog`:
its body is the domain command itself (less the fields its path gives and the actor, which
the caller's token gives), with the command's field descriptions and the stricter
annotations its fields declare for the edge (`domain.text.AtEdge`); its answer is what the
workflow recorded (`changes.change`): 200/201, or 422 with every reason the rules give, and
then nothing was recorded.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel

from domain.edge import AtEdge, edge_model
from domain.mentorship.catalog import COMMANDS, CommandEntry, Created
from mentorflow.api.auth import Caller, HrAdmin
from mentorflow.api.changes import IdempotencyKey, change
from mentorflow.api.context import Services
from mentorflow.api.errors import CONFLICT_RESPONSE, ERROR_RESPONSES, NOT_FOUND_RESPONSE
from mentorflow.api.models.identifiers import MentorshipIdPath
from mentorflow.api.models.mentorship_views import (
    ChallengeSet,
    CommandAccepted,
    ConversationLogged,
    GoalAdded,
)

router = APIRouter(
    prefix="/mentorships/{mentorship_id}",
    tags=["mentorships"],
    responses={**ERROR_RESPONSES, **NOT_FOUND_RESPONSE, **CONFLICT_RESPONSE},
)

ANSWERS: dict[Created | None, type[CommandAccepted]] = {
    None: CommandAccepted,
    "goal_id": GoalAdded,
    "challenge_id": ChallengeSet,
    "action_item_ids": ConversationLogged,
}


def answer(entry: CommandEntry, accepted: CommandAccepted) -> CommandAccepted:
    """The route's answer: what was recorded, and the id(s) the command created by name."""
    fields: dict[str, object] = accepted.model_dump()
    if entry.created == "action_item_ids":
        return ConversationLogged(**accepted.model_dump(), action_item_ids=accepted.created_ids)
    if entry.created is not None:
        fields[entry.created] = accepted.created_ids[0]
    return ANSWERS[entry.created].model_validate(fields)


def _path_parameter(entry: CommandEntry, name: str) -> inspect.Parameter:
    field = entry.command.model_fields[name]
    edge = next((meta for meta in field.metadata if isinstance(meta, AtEdge)), None)
    annotation = field.annotation if edge is None else edge.annotation
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[annotation, Path(description=field.description)],
    )


def _endpoint(entry: CommandEntry) -> Callable[..., Coroutine[Any, Any, CommandAccepted]]:
    path_fields = entry.path_fields
    body_model = edge_model(entry.command, frozenset({"actor", *path_fields}))
    has_body = bool(body_model.model_fields)

    async def endpoint(**arguments: Any) -> CommandAccepted:
        body: BaseModel | None = arguments.get("body")
        values = {
            **({} if body is None else body.model_dump()),
            **{name: arguments[name] for name in path_fields},
        }
        accepted = await change(
            arguments["services"],
            arguments["caller"],
            arguments["mentorship_id"],
            entry.command.model_validate(values),
            idempotency_key=arguments.get("idempotency_key"),
        )
        return answer(entry, accepted)

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("mentorship_id", keyword, annotation=MentorshipIdPath),
        *(_path_parameter(entry, name) for name in path_fields),
        *(
            [inspect.Parameter("body", keyword, annotation=Annotated[body_model, Body()])]
            if has_body
            else []
        ),
        inspect.Parameter("services", keyword, annotation=Services),
        inspect.Parameter("caller", keyword, annotation=Caller if entry.sides else HrAdmin),
        *(
            [inspect.Parameter("idempotency_key", keyword, annotation=IdempotencyKey, default=None)]
            if entry.idempotent
            else []
        ),
    ]
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=ANSWERS[entry.created]
    )
    endpoint.__name__ = entry.update
    endpoint.__doc__ = entry.command.__doc__
    return endpoint


for _entry in COMMANDS:
    router.add_api_route(
        _entry.path,
        _endpoint(_entry),
        methods=["POST"],
        status_code=_entry.status_code,
        summary=_entry.summary,
        response_model=ANSWERS[_entry.created],
    )
