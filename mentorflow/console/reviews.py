"""The review-summary page: the mentee reads the draft, rewords it, and shares it (or not).

Reading is ``GET /mentorships/{id}/review-summaries/{cycle_id}`` itself
(`mentorships.get_review_summary`): the mentee and HR read it, the mentor does not (a 403
page: the mentor knows the relationship, so refusing tells nothing new), anyone else gets
the relationship's 404. Sharing and declining are the command table's ``approve_review_summary`` and
``decline_review_summary``, which only the mentee may run, not even HR; a summary the mentee
decides nothing on by its date is withheld, as if declined. HR learns only that it was not
shared.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from domain.mentorship.catalog import BY_UPDATE, CommandEntry
from domain.mentorship.commands import ApproveReviewSummary
from mentorflow.api.changes import change, resolve
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, Forbidden, NotFound
from mentorflow.api.mentorships import get_review_summary
from mentorflow.api.models.identifiers import LOCAL_ID_PATTERN, MENTORSHIP_ID_PATTERN
from mentorflow.console.auth import CheckedForm, SignedIn, Viewer
from mentorflow.console.forms import (
    GENERAL,
    FormInvalid,
    read_command,
    refusal_problems,
)
from mentorflow.console.people import people_of, viewer_zone
from mentorflow.console.relationship_view import Failed, not_found
from mentorflow.console.web import error_page, render

router = APIRouter(include_in_schema=False)
APPROVE = BY_UPDATE["approve_review_summary"]
DECLINE = BY_UPDATE["decline_review_summary"]
DONE = {APPROVE.update: "the summary is shared", DECLINE.update: "the summary stays private"}
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
    done: str | None = None,
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
        "done": DONE.get(done or ""),
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
    return await _page(request, services, viewer, mentorship_id, cycle_id, done=done)


async def _decide(
    request: Request,
    services: ApiServices,
    viewer: Viewer,
    form: FormData,
    entry: CommandEntry,
    path: tuple[str, str],
) -> Response:
    """Run the mentee's decision; back to the summary, or the page with every problem."""
    mentorship_id, cycle_id = path
    if not _valid(mentorship_id, cycle_id):
        return not_found(request, viewer)
    try:
        command = read_command(entry, form, viewer.time_zone, {"cycle_id": cycle_id})
        if isinstance(command, ApproveReviewSummary):
            command = await _wording(services, viewer, mentorship_id, command)
        await change(services, viewer.principal, mentorship_id, command)
    except NotFound:
        return not_found(request, viewer)
    # The rules, Forbidden (the mentor, HR), Conflict, ServiceUnavailable: by field.
    except (FormInvalid, ApiError) as refusal:
        problems = refusal_problems(entry.command, refusal)
    else:
        return RedirectResponse(
            f"/relationships/{mentorship_id}/review-summaries/{cycle_id}?done={entry.update}",
            status_code=303,
        )
    typed = {"edited_text": str(form.get("edited_text") or "")}
    failed = Failed(entry.update, problems, typed)
    return await _page(request, services, viewer, mentorship_id, cycle_id, failed=failed)


async def _wording(
    services: ApiServices, viewer: Viewer, mentorship_id: str, command: ApproveReviewSummary
) -> ApproveReviewSummary:
    """The draft as it is (``edited_text`` None) when the mentee left its text unchanged."""
    draft = await get_review_summary(mentorship_id, command.cycle_id, services, viewer.principal)
    wording = (command.edited_text or "").strip()
    if wording and wording != draft.summary.text.strip():
        return command
    return command.model_copy(update={"edited_text": None})


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
    return await _decide(request, services, viewer, form, APPROVE, (mentorship_id, cycle_id))


@router.post(PATH + "/decline")
async def decline_review_summary(
    request: Request,
    mentorship_id: str,
    cycle_id: str,
    services: Services,
    viewer: SignedIn,
    form: CheckedForm,
) -> Response:
    """Keep the summary private (the mentee's decision, like sharing)."""
    return await _decide(request, services, viewer, form, DECLINE, (mentorship_id, cycle_id))
