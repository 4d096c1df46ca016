"""HR pages: the cohorts, and a cohort's matching (with the approval forms of a draft).

The same reads as the API's ``GET /cohorts`` (the read model) and ``GET /cohorts/{id}/matching``
(live from the cohort workflow). A pair's score breakdown (skills, objectives, personality,
logistics) is shown when the matching carries one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mentorflow.api.context import ApiServices, Services
from mentorflow.api.errors import NotFound
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN
from mentorflow.api.read_models import cohort_page
from mentorflow.api.temporal import cohort_matching
from mentorflow.console.auth import HrViewer, Viewer
from mentorflow.console.ops import OpsLinks
from mentorflow.console.web import error_page, render
from workflows.cohort_models import PairOverride
from workflows.ids import mentorship_workflow_id

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
PAIRS_PER_PAGE = 100


@router.get("/hr/cohorts")
async def cohorts(request: Request, services: Services, viewer: HrViewer) -> Response:
    """Every cohort with its status and key figures."""
    page = await cohort_page(services.pool, after=None, limit=PAGE_SIZE)
    return render(
        request,
        "cohorts.html",
        {
            "viewer": viewer,
            "cohorts": page.items,
            "more": page.next_after is not None,
            "ops": OpsLinks.of(services.settings),
        },
    )


NOTICES = {
    "launched": "Launched. The matching is below.",
    "already_launched": "This cohort was launched before: nothing new started. Its matching is "
    "below.",
    "approved": "Approved: the relationships are starting.",
}


@dataclass(frozen=True, slots=True)
class ApprovalForm:
    """HR's overrides of a draft matching, not approved yet, and what was refused.

    Pending overrides travel in the forms themselves (hidden fields), so nothing is kept on
    the server until HR approves.
    """

    pending: tuple[PairOverride, ...] = ()
    problems: dict[str, list[str]] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)


@router.get("/hr/cohorts/{cohort_id}/matching")
async def matching(
    request: Request,
    cohort_id: str,
    services: Services,
    viewer: HrViewer,
    notice: str | None = None,
    page: str = "1",
) -> Response:
    """The draft or final matching: pairs with score, breakdown and reasons; the unmatched."""
    return await render_matching(
        request,
        cohort_id,
        services,
        viewer,
        notice=NOTICES.get(notice or ""),
        page=_page_number(page),
    )


def _page_number(text: str) -> int:
    """A page number from the query string; anything else is the first page."""
    return int(text) if text.isdigit() and len(text) <= 6 and int(text) >= 1 else 1


async def render_matching(
    request: Request,
    cohort_id: str,
    services: ApiServices,
    viewer: Viewer,
    *,
    approval: ApprovalForm | None = None,
    notice: str | None = None,
    status_code: int = 200,
    page: int = 1,
) -> Response:
    """The matching page; with ``approval``, HR's pending overrides and refusals.

    The pairs table shows `PAIRS_PER_PAGE` pairs at a time (by mentee id); the override
    forms suggest every mentee and mentor of the cohort whatever the page.
    """
    not_found = error_page(request, 404, "Not found", f"No matching for {cohort_id}.", viewer)
    if not re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        return not_found
    try:
        outcome = await cohort_matching(
            services.client, cohort_id, timeout=services.limits.query_timeout_seconds
        )
    except NotFound:
        return not_found
    ops = OpsLinks.of(services.settings)
    shown = outcome.pairs if outcome.approved_pairs is None else outcome.approved_pairs
    pairs: list[dict[str, Any]] = []
    engine = {(pair.mentor_id, pair.mentee_id) for pair in outcome.pairs}  # a set: 1,000s of pairs
    ordered = sorted(shown, key=lambda p: p.mentee_id)
    pages = max(1, -(-len(ordered) // PAIRS_PER_PAGE))
    page = min(page, pages)
    first = (page - 1) * PAIRS_PER_PAGE
    for pair in ordered[first : first + PAIRS_PER_PAGE]:
        proposed = (pair.mentor_id, pair.mentee_id) in engine
        breakdown = outcome.breakdowns.get(pair.mentee_id) if proposed else None
        pairs.append(
            {
                **pair.model_dump(),
                "chosen_by_hr": not proposed,
                "breakdown": {} if breakdown is None else breakdown.model_dump(),
                "mentorship_id": mentorship_workflow_id(cohort_id, pair.mentee_id),
                "ops": ops.relationship(cohort_id, pair.mentor_id, pair.mentee_id),
            }
        )
    matched = {pair.mentee_id for pair in shown}
    mentees = sorted(matched | {u.mentee_id for u in outcome.unmatched})
    return render(
        request,
        "matching.html",
        {
            "viewer": viewer,
            "outcome": outcome,
            "pairs": pairs,
            "unmatched": [u for u in outcome.unmatched if u.mentee_id not in matched],
            "cohort_id": cohort_id,
            "cohort_ops": ops.cohort(cohort_id),
            "paging": {
                "page": page,
                "pages": pages,
                "first": first + 1,
                "last": first + len(pairs),
                "total": len(ordered),
            },
            "notice": notice,
            "approval": approval or ApprovalForm(),
            "mentees": mentees,
            "mentors": sorted({pair.mentor_id for pair in outcome.pairs}),
        },
        status_code=status_code,
    )
