"""HR forgets a person: the id, a confirmation that shows what will be erased, the outcome.

The confirmation lists the person's relationships and cohorts (the read model of
``GET /people/{id}/mentorships``) and the kinds of text that become unreadable; only its
POST runs `mentorflow.api.people.forget`, the route of ``POST /people/{id}/forget`` (the same
audit: the console session's id names who asked).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mentorflow.api.context import Services
from mentorflow.api.people import forget
from mentorflow.api.read_models import relationships_of
from mentorflow.console.auth import CheckedForm, HrViewer, Viewer
from mentorflow.console.web import render
from mentorflow.people import PERSON_ID

router = APIRouter(include_in_schema=False)
PATH = "/hr/people/forget"
SHOWN_RELATIONSHIPS = 200
ERASED_TEXT = {
    "mentee": (
        "goals and their motivation",
        "challenges and their notes",
        "review summaries",
        "feedback and comments they wrote",
        "action items they own",
        "closing-survey comments",
        "pause and rematch reasons about them",
    ),
    "mentor": (
        "feedback and comments they wrote",
        "conversation notes they wrote",
        "action items they own",
        "closing-survey comments",
    ),
}
KEPT = "Ids, stages, dates, counts, skills and scores stay, so dashboards do not change."


def _person_id(form: Any) -> str:
    value = form.get("person_id")
    return value.strip() if isinstance(value, str) else ""


def _problems(person_id: str) -> list[str]:
    if not person_id:
        return ["give the person's id"]
    if not PERSON_ID.fullmatch(person_id):
        return ["a person id is 1-64 letters, digits, '.', '_', '@' or '-'"]
    return []


@router.get(PATH)
async def forget_page(request: Request, viewer: HrViewer) -> Response:
    """The form: whose data to forget."""
    return _form(request, viewer, "", [])


@router.post(PATH + "/confirm")
async def confirm(
    request: Request, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """What forgetting this person will erase, and the button that does it."""
    person_id = _person_id(form)
    problems = _problems(person_id)
    if problems:
        return _form(request, viewer, person_id, problems)
    rows = await relationships_of(
        services.pool, person_id, after=None, limit=SHOWN_RELATIONSHIPS + 1
    )
    relationships = [
        {
            "mentorship_id": relationship.mentorship_id,
            "cohort_id": relationship.cohort_id,
            "side": "mentor" if relationship.mentor_id == person_id else "mentee",
            "other": relationship.mentee_id
            if relationship.mentor_id == person_id
            else relationship.mentor_id,
            "stage": overview.stage,
        }
        for relationship, overview in rows[:SHOWN_RELATIONSHIPS]
    ]
    sides = sorted({r["side"] for r in relationships})
    kinds = list(dict.fromkeys(kind for side in sides for kind in ERASED_TEXT[side]))
    context = {
        "viewer": viewer,
        "person_id": person_id,
        "relationships": relationships,
        "more": len(rows) > SHOWN_RELATIONSHIPS,
        "cohorts": sorted({r["cohort_id"] for r in relationships}),
        "kinds": kinds,
        "kept": KEPT,
    }
    return render(request, "forget_confirm.html", context)


@router.post(PATH)
async def forget_person(
    request: Request, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """Forget the person, as ``POST /people/{id}/forget``; show what was done."""
    person_id = _person_id(form)
    problems = _problems(person_id)
    if problems or form.get("confirmed") != "yes":
        return _form(request, viewer, person_id, problems or ["confirm on the next page first"])
    outcome = await forget(person_id, services, viewer.principal)
    return render(request, "forget_done.html", {"viewer": viewer, "outcome": outcome})


def _form(request: Request, viewer: Viewer, typed: str, problems: list[str]) -> Response:
    context = {"viewer": viewer, "typed": typed, "problems": problems}
    return render(request, "forget.html", context, status_code=422 if problems else 200)
