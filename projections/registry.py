"""Every projection of mentorflow, by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import Projection
from projections.cohort_dashboard import CohortDashboard
from projections.development_plan import DevelopmentPlan
from projections.errors import UnknownProjection
from projections.mentor_load import MentorLoad
from projections.overview import MentorshipOverview
from projections.people import People
from projections.review_summaries import ReviewSummaries


def all_projections() -> list[Projection[Any]]:
    """One instance of each projection, in a stable order."""
    return [
        MentorshipOverview(),
        DevelopmentPlan(),
        CohortDashboard(),
        MentorLoad(),
        ReviewSummaries(),
        People(),
    ]


def select_projections(names: Sequence[str] | None = None) -> list[Projection[Any]]:
    """The projections named (all when ``names`` is empty or None).

    Raises:
        UnknownProjection: A name is not a projection's.
    """
    projections = all_projections()
    if not names:
        return projections
    by_name = {projection.name: projection for projection in projections}
    for name in names:
        if name not in by_name:
            raise UnknownProjection(name, sorted(by_name))
    return [by_name[name] for name in dict.fromkeys(names)]
