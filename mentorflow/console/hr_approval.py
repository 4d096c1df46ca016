"""HR approves a draft matching, with overrides: assign a mentor, or swap two mentees' mentors.

Each override is checked as it is made, by the cohort workflow's ``approval_problems`` query:
the rules of the ``approve_matches`` validator (every hard constraint, each mentor's
capacity) run on the whole set, pending overrides included, and nothing is recorded. htmx
asks ``…/overrides/check`` as the fields change and shows the reasons next to the form;
without JavaScript the same check runs when the form is sent. Approving runs
`mentorflow.api.cohorts.approve_matching`, the route of ``POST /cohorts/{id}/approval``:
a refusal (422) names every broken rule and records nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mentorflow.api.cohorts import approve_matching
from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError, NotFound
from mentorflow.api.models.cohorts import ApprovalRequest, OverrideRequest
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN
from mentorflow.api.temporal import cohort_approval_problems, cohort_matching
from mentorflow.console.auth import CheckedForm, HrViewer
from mentorflow.console.hr import ApprovalForm, render_matching
from mentorflow.console.web import render
from workflows.cohort_models import ApproveMatches, MatchingOutcome, PairOverride

router = APIRouter(include_in_schema=False)
BASE = "/hr/cohorts/{cohort_id}"


def pending_overrides(form: FormData) -> list[PairOverride]:
    """The overrides the page carries (``mentee_id:mentor_id``; ids never hold a colon)."""
    overrides: dict[str, PairOverride] = {}
    for value in form.getlist("override"):
        if isinstance(value, str) and value.count(":") == 1:
            mentee_id, mentor_id = value.split(":")
            try:
                OverrideRequest(mentee_id=mentee_id, mentor_id=mentor_id)
            except ValidationError:
                continue  # not an override this page could have written
            overrides[mentee_id] = PairOverride(mentee_id=mentee_id, mentor_id=mentor_id)
    return list(overrides.values())


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def requested(
    form: FormData, outcome: MatchingOutcome, pending: Sequence[PairOverride]
) -> tuple[list[PairOverride], dict[str, list[str]]]:
    """The overrides a form asks for, and the problems with the form itself by field.

    An assignment (``mentee_id``, ``mentor_id``) gives a mentee a mentor; a swap
    (``first_mentee``, ``second_mentee``) exchanges the mentors two mentees have now (the
    engine's proposal, or a pending override).
    """
    current = {pair.mentee_id: pair.mentor_id for pair in outcome.pairs}
    current.update({o.mentee_id: o.mentor_id for o in pending})
    if _text(form, "kind") == "swap":
        first, second = _text(form, "first_mentee"), _text(form, "second_mentee")
        problems: dict[str, list[str]] = {}
        for name, mentee_id in (("first_mentee", first), ("second_mentee", second)):
            if not mentee_id:
                problems.setdefault(name, []).append("choose a mentee")
            elif mentee_id not in current:
                problems.setdefault(name, []).append(f"{mentee_id} has no mentor to swap")
        if not problems and first == second:
            problems["second_mentee"] = ["choose two different mentees"]
        if problems:
            return [], problems
        return [
            PairOverride(mentee_id=first, mentor_id=current[second]),
            PairOverride(mentee_id=second, mentor_id=current[first]),
        ], {}
    mentee_id, mentor_id = _text(form, "mentee_id"), _text(form, "mentor_id")
    problems = {}
    if not mentee_id:
        problems["mentee_id"] = ["give a mentee id"]
    if not mentor_id:
        problems["mentor_id"] = ["give the mentor's id"]
    if problems:
        return [], problems
    try:
        OverrideRequest(mentee_id=mentee_id, mentor_id=mentor_id)
    except ValidationError:
        return [], {"mentor_id": [f"{mentor_id!r} is not a participant id"]}
    return [PairOverride(mentee_id=mentee_id, mentor_id=mentor_id)], {}


def merged(pending: Sequence[PairOverride], new: Sequence[PairOverride]) -> list[PairOverride]:
    """``pending`` with ``new`` replacing any override of the same mentee."""
    overrides = {o.mentee_id: o for o in pending}
    overrides.update({o.mentee_id: o for o in new})
    return list(overrides.values())


async def _check(
    services: ApiServices, cohort_id: str, form: FormData
) -> tuple[list[PairOverride], list[PairOverride], dict[str, list[str]]]:
    """Pending overrides, the ones asked for, and every problem (by form field; ``rules``
    for the cohort's rules). Raises `NotFound` for an unknown cohort or matching."""
    if not re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        raise NotFound(f"no cohort {cohort_id}")
    outcome = await cohort_matching(
        services.client, cohort_id, timeout=services.limits.query_timeout_seconds
    )
    pending = pending_overrides(form)
    new, problems = requested(form, outcome, pending)
    if problems:
        return pending, new, problems
    rules = await cohort_approval_problems(
        services.client,
        cohort_id,
        ApproveMatches(overrides=merged(pending, new)),
        timeout=services.limits.query_timeout_seconds,
    )
    return pending, new, {"rules": rules} if rules else {}


@router.post(BASE + "/overrides/check")
async def check_override(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """htmx: the override as typed, checked against the cohort's rules (a fragment)."""
    try:
        _, new, problems = await _check(services, cohort_id, form)
    except NotFound:
        problems, new = {"rules": [f"no draft matching for {cohort_id}"]}, []
    kind = "swap" if _text(form, "kind") == "swap" else "assign"
    context = {"viewer": viewer, "problems": problems, "new": new, "kind": kind}
    return render(request, "override_check.html", context)


@router.post(BASE + "/overrides")
async def add_override(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """Add an override to the pending ones when the rules allow it; otherwise say why."""
    try:
        pending, new, problems = await _check(services, cohort_id, form)
    except NotFound:
        return await render_matching(request, cohort_id, services, viewer)
    kind = "swap" if _text(form, "kind") == "swap" else "assign"
    if problems:
        typed = {name: _text(form, name) for name in _TYPED}
        approval = ApprovalForm(
            tuple(pending), {f"{kind}-{k}": v for k, v in problems.items()}, typed
        )
        return await render_matching(
            request, cohort_id, services, viewer, approval=approval, status_code=422
        )
    approval = ApprovalForm(tuple(merged(pending, new)))
    return await render_matching(request, cohort_id, services, viewer, approval=approval)


_TYPED = ("mentee_id", "mentor_id", "first_mentee", "second_mentee")


@router.post(BASE + "/approval")
async def approve(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """Approve the draft with the pending overrides, as ``POST /cohorts/{id}/approval``."""
    pending = pending_overrides(form)
    body = ApprovalRequest(
        overrides=[OverrideRequest(mentee_id=o.mentee_id, mentor_id=o.mentor_id) for o in pending]
    )
    try:
        await approve_matching(cohort_id, body, services, viewer.principal)
    except NotFound:
        return await render_matching(request, cohort_id, services, viewer)
    except ApiError as refused:
        approval = ApprovalForm(tuple(pending), {"approve": refused.problems or [refused.message]})
        return await render_matching(
            request,
            cohort_id,
            services,
            viewer,
            approval=approval,
            status_code=refused.status_code,
        )
    return RedirectResponse(f"/hr/cohorts/{cohort_id}/matching?notice=approved", status_code=303)
