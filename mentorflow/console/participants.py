"""Participant pages: my relationships, a relationship, and its forms.

Reads use the API's own functions: the person's relationships from the read model
(`read_models.relationships_of`, as ``GET /people/{id}/mentorships``), a relationship live
from its workflow (as ``GET /mentorships/{id}``), so that what a person just did shows at
once. Every form is one command of the command table, posted to the command's API path
under ``/relationships/{id}`` and run by `changes.change`: the same authorization, the same
rules. A relationship the viewer may not see is a 404 page, like one that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from domain.mentorship.catalog import BY_UPDATE, CommandEntry
from mentorflow.api.access import Relationship
from mentorflow.api.changes import change, resolve
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, NotFound
from mentorflow.api.models.mentorship_views import MentorshipOverview
from mentorflow.api.read_models import mentor_load, relationships_of, summaries_awaiting
from mentorflow.console import reviews
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import (
    FormInvalid,
    read_command,
    refusal_problems,
)
from mentorflow.console.people import People, people_of, viewer_zone
from mentorflow.console.relationship_view import (
    Failed,
    load_in,
    not_found,
    relationship_page,
)
from mentorflow.console.web import render

router = APIRouter(include_in_schema=False)
router.include_router(reviews.router)

FORMS = (
    "complete_training",
    "add_goal",
    "revise_goal",
    "achieve_goal",
    "drop_goal",
    "log_conversation",
    "complete_action_item",
    "give_feedback",
    "set_challenge",
    "record_challenge_progress",
    "submit_survey",
)
"""The commands the relationship page has forms for (entries of the command table)."""
PAGE_SIZE = 50


@router.get("/relationships")
async def my_relationships(request: Request, services: Services, viewer: SignedIn) -> Response:
    """The viewer's relationships, each with its stage and the next thing to do."""
    if viewer.person_id is None:
        return RedirectResponse("/hr/cohorts", status_code=303)
    rows = await relationships_of(services.pool, viewer.person_id, after=None, limit=PAGE_SIZE)
    people = await asyncio.gather(*(people_of(services, relationship) for relationship, _ in rows))
    loads = await mentor_load(services.pool, viewer.person_id)
    awaiting = await summaries_awaiting(services.pool, viewer.person_id)
    items = [
        {
            "relationship": relationship,
            "overview": overview,
            "people": cards,
            "side": relationship.side_of(viewer.person_id),
            "next_step": next_step(overview),
            "summaries": awaiting.get(relationship.mentorship_id, [])
            if relationship.side_of(viewer.person_id) == "mentee"
            else [],
            "load": load_in(loads, relationship.cohort_id)
            if relationship.side_of(viewer.person_id) == "mentor"
            else None,
        }
        for (relationship, overview), cards in zip(rows, people, strict=True)
    ]
    mine = _first_card(people)  # the viewer's own card (name, zone) is in each cohort's
    context = {"viewer": viewer, "items": items, "zone": viewer_zone(viewer, mine), "people": mine}
    return render(request, "relationships.html", context)


def _first_card(people: list[People]) -> People:
    return next((cards for cards in people if cards.cards), People())


def next_step(overview: MentorshipOverview) -> str:
    """The next thing to do in a relationship, in the words of its list."""
    stage, overdue = overview.stage, overview.action_items_overdue
    if stage == "matched":
        return "Get started: your training and the mentee's first goals"
    if stage == "onboarding":
        return "Finish onboarding: training, goals and the kickoff conversation"
    if stage == "paused":
        return "On hold: resume when you are both ready"
    if stage == "closing":
        return "Answer the closing survey"
    if stage == "closed":
        return "Nothing: the relationship has ended"
    if overdue:
        return f"Catch up on {overdue} overdue action item{'s' if overdue > 1 else ''}"
    if overview.consecutive_misses:
        return "Hold the next conversation: the last one was missed"
    return "Hold the next conversation and agree on its action plan"


@router.get("/relationships/{mentorship_id}")
async def relationship(
    request: Request,
    mentorship_id: str,
    services: Services,
    viewer: SignedIn,
    done: str | None = None,
) -> Response:
    """A relationship: stage, next conversation, goals, history, items, challenges, …"""
    return await relationship_page(request, services, viewer, mentorship_id, done=done)


async def _zone_for(services: ApiServices, viewer: Viewer, relationship: Relationship) -> str:
    return viewer_zone(viewer, await people_of(services, relationship))


def _form_endpoint(
    entry: CommandEntry,
) -> Callable[..., Coroutine[Any, Any, Response]]:
    async def submit(
        request: Request, services: Services, viewer: SignedIn, form: CheckedForm
    ) -> Response:
        mentorship_id = str(request.path_params["mentorship_id"])
        path_values = {name: request.path_params[name] for name in entry.path_fields}
        try:
            # Dates are typed in the zone the page showed them in.
            zone = await _zone_for(services, viewer, await resolve(services, mentorship_id))
            command = read_command(entry, form, zone, path_values)
            await change(services, viewer.principal, mentorship_id, command)
        except NotFound:
            return not_found(request, viewer)
        # The rules, Forbidden, Conflict, ServiceUnavailable: by field.
        except (FormInvalid, ApiError) as refusal:
            problems = refusal_problems(entry.command, refusal)
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
        return await relationship_page(
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
