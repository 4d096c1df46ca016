"""The review-summary page: the mentee reads the draft, rewords it, and shares it (or not).

Reading is ``GET /mentorships/{id}/review-summaries/{cycle_id}`` itself
(`mentorships.get_review_summary`): the mentee and HR read it, the mentor does not (a 403
page: the mentor knows the relationship, so refusing tells nothing new), anyone else gets
the relationship's 404. Sharing is the command table's ``approve_review_summary``, which only
the mentee may run, not even HR. Declining has no command: a summary the mentee does not
share by its date is withheld, and HR learns only that it was not shared.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from domain.mentorship.catalog import BY_UPDATE
from domain.mentorship.commands import ApproveReviewSummary
from mentorflow.api.changes import change, resolve
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, CommandRejected, Forbidden, NotFound
from mentorflow.api.mentorships import get_review_summary
from mentorflow.api.models.identifiers import LOCAL_ID_PATTERN, MENTORSHIP_ID_PATTERN
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import (
    GENERAL,
    FieldProblems,
    FormInvalid,
    read_command,
    sort_problems,
)
from mentorflow.console.people import people_of, viewer_zone
from mentorflow.console.relationship_view import Failed, not_found
from mentorflow.console.web import error_page, render

router = APIRouter(include_in_schema=False)
APPROVE = BY_UPDATE["approve_review_summary"]
PATH = "/relationships/{mentorship_id}/review-summaries/{cycle_id}"


def _valid(mentorship_id: str, cycle_id: str) -> bool:
    return bool(
        re.fullmatch(MENTORSHIP_ID_PATTERN, mentorship_id)
        and re.fullmatch(LOCAL_ID_PATTERN, cycle_id)
    )


async def _page(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    mentorship_id: str,
    cycle_id: str,
    *,
    failed: Failed | None = None,
    shared: bool = False,
) -> Response:
    if not _valid(mentorship_id, cycle_id):
        return not_found(request, viewer)
    try:
        view = await get_review_summary(mentorship_id, cycle_id, services, viewer.principal)
    except NotFound:
        return not_found(request, viewer)
    except Forbidden as refused:
        return error_page(request, 403, "Not yours to read", refused.message.capitalize(), viewer)
    relationship = await resolve(services, mentorship_id)
    people = await people_of(services, relationship)
    context = {
        "viewer": viewer,
        "relationship": relationship,
        "people": people,
        "side": relationship.side_of(viewer.person_id),
        "review": view,
        "zone": viewer_zone(viewer, people),
        "failed": failed,
        "shared": shared,
        "general": GENERAL,
    }
    return render(request, "review_summary.html", context, status_code=422 if failed else 200)


@router.get(PATH)
async def review_summary(
    request: Request,
    mentorship_id: str,
    cycle_id: str,
    services: Services,
    viewer: SignedIn,
    done: str | None = None,
) -> Response:
    """A review cycle's summary: the draft to reword and share, or what was shared."""
    return await _page(
        request, services, viewer, mentorship_id, cycle_id, shared=done == APPROVE.update
    )


@router.post(PATH + "/approve")
async def approve_review_summary(
    request: Request,
    mentorship_id: str,
    cycle_id: str,
    services: Services,
    viewer: SignedIn,
    form: CheckedForm,
) -> Response:
    """Share the summary, in the mentee's words when they changed it."""
    if not _valid(mentorship_id, cycle_id):
        return not_found(request, viewer)
    try:
        draft = await get_review_summary(mentorship_id, cycle_id, services, viewer.principal)
        command = read_command(APPROVE, form, viewer.time_zone, {"cycle_id": cycle_id})
        assert isinstance(command, ApproveReviewSummary)
        wording = (command.edited_text or "").strip()
        if not wording or wording == draft.summary.text.strip():
            command = command.model_copy(update={"edited_text": None})  # the draft as it is
        await change(services, viewer.principal, mentorship_id, command)
    except FormInvalid as invalid:
        problems = invalid.problems
    except CommandRejected as rejected:
        problems = sort_problems(APPROVE.command, rejected.problems or [rejected.message])
    except NotFound:
        return not_found(request, viewer)
    except ApiError as refused:  # Forbidden (the mentor, HR), Conflict, ServiceUnavailable
        problems = FieldProblems()
        problems.add(GENERAL, refused.message)
    else:
        return RedirectResponse(
            f"/relationships/{mentorship_id}/review-summaries/{cycle_id}?done={APPROVE.update}",
            status_code=303,
        )
    typed = {"edited_text": str(form.get("edited_text") or "")}
    return await _page(
        request,
        services,
        viewer,
        mentorship_id,
        cycle_id,
        failed=Failed(APPROVE.update, problems, typed),
    )
