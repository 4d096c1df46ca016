"""HR's review cycles of a cohort: start one (as ``POST /review-cycles``), see who shared.

Per cycle and relationship the page shows the mentee's decision from the review-summaries
read model (shared, withheld when the window passed, awaiting the mentee), never the summary's
text; a running relationship with no summary for the cycle yet reads "not drafted yet".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import ApiError
from mentorflow.api.models.cohorts import ReviewCycleRequest
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN
from mentorflow.api.models.review_cycles import CohortRelationship, ReviewOutcome
from mentorflow.api.read_models import (
    RUNNING_STAGES,
    cohort_relationships,
    cohort_summary,
    review_outcomes,
)
from mentorflow.api.review_cycles import start_review_cycle
from mentorflow.console.auth import CheckedForm, HrViewer, Viewer
from mentorflow.console.ops import OpsLinks
from mentorflow.console.web import error_page, render

router = APIRouter(include_in_schema=False)
PATH = "/hr/cohorts/{cohort_id}/review-cycles"
STATUS_LABELS = {
    "shared": "shared",
    "withheld": "withheld",
    "awaiting_mentee": "pending: awaiting the mentee",
}


@dataclass(slots=True)
class CycleView:
    """One cycle: each relationship's outcome, and the running ones without a summary."""

    cycle_id: str
    outcomes: list[ReviewOutcome] = field(default_factory=list)
    not_drafted: list[CohortRelationship] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Relationships whose summary has this status."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def cycles_of(
    outcomes: list[ReviewOutcome], relationships: list[CohortRelationship]
) -> list[CycleView]:
    """The cycles, newest first (as the outcomes come), each complete with the running
    relationships that have no summary for it yet."""
    cycles: dict[str, CycleView] = {}
    for outcome in outcomes:
        cycles.setdefault(outcome.cycle_id, CycleView(outcome.cycle_id)).outcomes.append(outcome)
    running = [r for r in relationships if r.stage in RUNNING_STAGES]
    for cycle in cycles.values():
        cycle.outcomes.sort(key=lambda outcome: outcome.mentorship_id)
        drafted = {outcome.mentorship_id for outcome in cycle.outcomes}
        cycle.not_drafted = [r for r in running if r.mentorship_id not in drafted]
    return list(cycles.values())


@router.get(PATH)
async def review_cycles(
    request: Request,
    cohort_id: str,
    services: Services,
    viewer: HrViewer,
    started: str | None = None,
) -> Response:
    """The cohort's review cycles, with the start form."""
    return await _page(request, cohort_id, services, viewer, started=started)


@router.post(PATH)
async def start(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer, form: CheckedForm
) -> Response:
    """Start a cycle: every running relationship drafts a summary for its mentee."""
    given = form.get("cycle_id")
    cycle_id = given.strip() if isinstance(given, str) and given.strip() else None
    try:
        body = ReviewCycleRequest(cohort_id=cohort_id, cycle_id=cycle_id)
    except ValidationError as invalid:
        problems = [str(error["msg"]) for error in invalid.errors(include_url=False)]
        return await _page(
            request, cohort_id, services, viewer, problems=problems, typed=cycle_id or ""
        )
    try:
        started = await start_review_cycle(body, services, viewer.principal)
    except ApiError as refused:
        return await _page(
            request,
            cohort_id,
            services,
            viewer,
            problems=refused.problems or [refused.message],
            typed=cycle_id or "",
        )
    return RedirectResponse(
        f"/hr/cohorts/{cohort_id}/review-cycles?started={started.cycle_id}", status_code=303
    )


async def _page(
    request: Request,
    cohort_id: str,
    services: ApiServices,
    viewer: Viewer,
    *,
    started: str | None = None,
    problems: list[str] | None = None,
    typed: str = "",
) -> Response:
    summary = None
    if re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        summary = await cohort_summary(services.pool, cohort_id)
    if summary is None:
        return error_page(request, 404, "Not found", f"No cohort {cohort_id}.", viewer)
    relationships = await cohort_relationships(services.pool, cohort_id)
    ops = OpsLinks.of(services.settings)
    context: dict[str, Any] = {
        "viewer": viewer,
        "cohort": summary,
        "cycles": cycles_of(await review_outcomes(services.pool, cohort_id), relationships),
        "running": sum(1 for r in relationships if r.stage in RUNNING_STAGES),
        "started": started,
        "problems": problems or [],
        "typed": typed,
        "labels": STATUS_LABELS,
        "ops": ops,
    }
    return render(request, "review_cycles.html", context, status_code=422 if problems else 200)
