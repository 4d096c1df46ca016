"""Participant pages: my relationships, a relationship, and its forms.

Reads use the API's own functions: the person's relationships from the read model
(`read_models.relationships_of`, as ``GET /people/{id}/mentorships``), a relationship live
from its workflow (as ``GET /mentorships/{id}``), so that what a person just did shows at
once. Every form is one command of the command table, posted to the command's API path
under ``/relationships/{id}`` and run by `changes.change`: the same authorization, the same
rules. A relationship the viewer may not see is a 404 page, like one that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from domain.mentorship.catalog import BY_UPDATE, CommandEntry
from mentorflow.api.access import ensure_can_read
from mentorflow.api.changes import change, resolve
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, CommandRejected, NotFound
from mentorflow.api.models.identifiers import MENTORSHIP_ID_PATTERN
from mentorflow.api.read_models import mentorship_overview, relationships_of
from mentorflow.api.temporal import mentorship_snapshot
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import (
    ACTION_ITEM_ROWS,
    GENERAL,
    FieldProblems,
    FormInvalid,
    read_command,
    sort_problems,
)
from mentorflow.console.web import error_page, render

router = APIRouter(include_in_schema=False)

FORMS = (
    "complete_training",
    "add_goal",
    "revise_goal",
    "achieve_goal",
    "drop_goal",
    "log_conversation",
    "complete_action_item",
    "give_feedback",
)
"""The commands the relationship page has forms for (entries of the command table)."""

RATINGS_BY_SIDE = {
    "mentee": ("usefulness", "listening", "clarity"),
    "mentor": ("preparation", "follow_through"),
}
"""What each side rates after a conversation (the other side's part in it)."""
PAGE_SIZE = 50


@dataclass(frozen=True)
class Failed:
    """A form that came back with problems: which, what was typed, and why."""

    update: str
    problems: FieldProblems
    values: dict[str, str]


def not_found(request: Request, viewer: Viewer | None) -> Response:
    """The one answer for a relationship that does not exist or is not the viewer's."""
    return error_page(request, 404, "Not found", "There is no such relationship.", viewer)


@router.get("/relationships")
async def my_relationships(request: Request, services: Services, viewer: SignedIn) -> Response:
    """The viewer's relationships, each with its stage and the next thing to do."""
    if viewer.person_id is None:
        return RedirectResponse("/hr/cohorts", status_code=303)
    rows = await relationships_of(services.pool, viewer.person_id, after=None, limit=PAGE_SIZE)
    items = [
        {
            "relationship": relationship,
            "overview": overview,
            "side": relationship.side_of(viewer.person_id),
            "next_step": _next_step(overview.stage, overview.action_items_overdue),
        }
        for relationship, overview in rows
    ]
    return render(request, "relationships.html", {"viewer": viewer, "items": items})


def _next_step(stage: str, overdue: int) -> str:
    if stage in ("matched", "onboarding"):
        return "Finish onboarding: training, goals and the kickoff conversation"
    if stage == "paused":
        return "On hold"
    if stage == "closing":
        return "Answer the closing survey"
    if stage == "closed":
        return "Closed"
    if overdue:
        return f"{overdue} overdue action item{'s' if overdue > 1 else ''}"
    return "Hold the next conversation"


async def _page(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    mentorship_id: str,
    *,
    failed: Failed | None = None,
    done: str | None = None,
) -> Response:
    if not re.fullmatch(MENTORSHIP_ID_PATTERN, mentorship_id):
        return not_found(request, viewer)
    try:
        relationship = await resolve(services, mentorship_id)
        ensure_can_read(viewer.principal, relationship)
        snapshot = await mentorship_snapshot(
            services.client, mentorship_id, timeout=services.limits.query_timeout_seconds
        )
    except NotFound:
        return not_found(request, viewer)
    projected = await mentorship_overview(services.pool, mentorship_id)
    state = snapshot
    side = relationship.side_of(viewer.person_id)
    zone = viewer.time_zone
    conversations = sorted((int(n), at) for n, at in state.conversation_times.items())
    context: dict[str, Any] = {
        "viewer": viewer,
        "relationship": relationship,
        "state": state,
        "side": side,
        "details": snapshot.details,
        "overview": None if projected is None else projected[1],
        "zone": zone,
        # Now in the viewer's zone, as a datetime-local value: the conversation's default.
        "now_local": datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"),
        "my_training_done": set(state.training_completed.get(viewer.person_id or "", [])),
        "missing": state.missing_for_onboarding() if state.stage.value == "onboarding" else [],
        "goals": sorted(state.goals.values(), key=lambda goal: goal.goal_id),
        "active_goals": [goal for goal in state.goals.values() if goal.status == "active"],
        "action_items": sorted(
            state.action_items.values(), key=lambda item: (item.status, item.due_at)
        ),
        "overdue": set(snapshot.overdue_action_items),
        "conversations": conversations,
        "feedback_open": [
            number
            for number, _ in conversations
            if side is not None and f"{number}:{side}" not in state.feedback_given
        ],
        "ratings": RATINGS_BY_SIDE.get(side or "", ()),
        "rows": range(ACTION_ITEM_ROWS),
        "failed": failed,
        "done": BY_UPDATE[done].summary if done in BY_UPDATE else None,
        "general": GENERAL,
    }
    return render(request, "relationship.html", context, status_code=422 if failed else 200)


@router.get("/relationships/{mentorship_id}")
async def relationship_page(
    request: Request,
    mentorship_id: str,
    services: Services,
    viewer: SignedIn,
    done: str | None = None,
) -> Response:
    """A relationship: stage, next conversation, goals, conversations, items, feedback."""
    return await _page(request, services, viewer, mentorship_id, done=done)


def _form_endpoint(
    entry: CommandEntry,
) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def submit(
        request: Request, services: Services, viewer: SignedIn, form: CheckedForm
    ) -> Response:
        mentorship_id = str(request.path_params["mentorship_id"])
        path_values = {name: request.path_params[name] for name in entry.path_fields}
        try:
            command = read_command(entry, form, viewer.time_zone, path_values)
            await change(services, viewer.principal, mentorship_id, command)
        except FormInvalid as invalid:
            problems = invalid.problems
        except CommandRejected as rejected:
            problems = sort_problems(entry.command, rejected.problems or [rejected.message])
        except NotFound:
            return not_found(request, viewer)
        except ApiError as refused:  # Forbidden, Conflict, ServiceUnavailable
            problems = FieldProblems()
            problems.add(GENERAL, refused.message)
        else:
            return RedirectResponse(
                f"/relationships/{mentorship_id}?done={entry.update}#{entry.update}",
                status_code=303,
            )
        typed = {
            key: ",".join(str(value) for value in form.getlist(key))
            for key in form
            if key != "csrf_token"
        }
        return await _page(
            request,
            services,
            viewer,
            mentorship_id,
            failed=Failed(_form_id(entry, path_values), problems, typed),
        )

    submit.__name__ = f"console_{entry.update}"
    return submit


def _form_id(entry: CommandEntry, path_values: dict[str, Any]) -> str:
    """Which form on the page: the command, and the object it is about."""
    return "-".join([entry.update, *(str(value) for value in path_values.values())])


for _update in FORMS:
    _entry = BY_UPDATE[_update]
    router.add_api_route(
        "/relationships/{mentorship_id}" + _entry.path,
        _form_endpoint(_entry),
        methods=["POST"],
        include_in_schema=False,
    )
