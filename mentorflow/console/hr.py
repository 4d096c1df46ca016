"""HR pages: the cohorts, and a cohort's matching.

The same reads as the API's ``GET /cohorts`` (the read model) and ``GET /cohorts/{id}/matching``
(live from the cohort workflow). A pair's score breakdown (skills, objectives, personality,
logistics) is shown when the matching carries one.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mentorflow.api.context import Services
from mentorflow.api.errors import NotFound
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN
from mentorflow.api.read_models import cohort_page
from mentorflow.api.temporal import cohort_matching
from mentorflow.console.auth import HrViewer
from mentorflow.console.web import error_page, render
from workflows.ids import mentorship_workflow_id

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


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
        },
    )


@router.get("/hr/cohorts/{cohort_id}/matching")
async def matching(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer
) -> Response:
    """The draft or final matching: pairs with score, breakdown and reasons; the unmatched."""
    not_found = error_page(request, 404, "Not found", f"No matching for {cohort_id}.", viewer)
    if not re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        return not_found
    try:
        outcome = await cohort_matching(
            services.client, cohort_id, timeout=services.limits.query_timeout_seconds
        )
    except NotFound:
        return not_found
    pairs: list[dict[str, Any]] = []
    for pair in outcome.pairs:
        fields = pair.model_dump()
        breakdown = fields.get("breakdown") or {}
        pairs.append(
            {
                **fields,
                "breakdown": {str(key): float(value) for key, value in dict(breakdown).items()},
                "mentorship_id": mentorship_workflow_id(cohort_id, pair.mentee_id),
            }
        )
    return render(
        request,
        "matching.html",
        {"viewer": viewer, "outcome": outcome, "pairs": pairs, "cohort_id": cohort_id},
    )
