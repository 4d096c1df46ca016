"""HR's dashboard of a cohort, its pairs at risk, and the CSV exports.

The dashboard reads what the API's ``GET /cohorts/{id}/dashboard`` reads (`cohort_dashboard`)
and the figures over time of the same projection (`projections.cohort_figures`); nothing here
asks Temporal, so the page costs a few read-model queries however large the cohort. The
at-risk list links to each relationship's page, which HR sees without private text.
"""

from __future__ import annotations

import asyncio
import re
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mentorflow.api.context import Services
from mentorflow.api.models.cohorts import CohortDashboard
from mentorflow.api.models.identifiers import COHORT_ID_PATTERN
from mentorflow.api.read_models import cohort_dashboard
from mentorflow.console.auth import HrViewer, Viewer
from mentorflow.console.charts import Chart, dashboard_charts
from mentorflow.console.exports import csv_download, csv_text
from mentorflow.console.web import error_page, render
from projections.cohort_figures import (
    RELATIONSHIP_COLUMNS,
    read_cohort_figures,
    read_pairs_at_risk,
    read_relationship_rows,
)

router = APIRouter(include_in_schema=False)
AT_RISK_LIMIT = 500


class _NoCohort(Exception):
    pass


async def _dashboard(services: Services, cohort_id: str) -> CohortDashboard:
    if not re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        raise _NoCohort
    dashboard = await cohort_dashboard(services.pool, cohort_id)
    if dashboard is None:
        raise _NoCohort
    return dashboard


async def _dashboard_and_charts(
    services: Services, cohort_id: str, zone: str
) -> tuple[CohortDashboard, list[Chart]]:
    """The dashboard and its charts, read at once (independent queries on the pool)."""
    if not re.fullmatch(COHORT_ID_PATTERN, cohort_id):
        raise _NoCohort
    dashboard, figures = await asyncio.gather(
        cohort_dashboard(services.pool, cohort_id),
        read_cohort_figures(services.pool, cohort_id, zone),
    )
    if dashboard is None:
        raise _NoCohort
    return dashboard, dashboard_charts(dashboard, figures)


def _not_found(request: Request, cohort_id: str, viewer: Viewer) -> Response:
    return error_page(request, 404, "Not found", f"No cohort {cohort_id}.", viewer)


def key_figures(dashboard: CohortDashboard) -> list[tuple[str, object]]:
    """The dashboard's headline figures, label and value."""

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    return [
        ("Pairs", dashboard.pairs),
        ("Pairs at risk", len(dashboard.at_risk_pairs)),
        ("Onboarding completed", share(dashboard.onboarding_completion)),
        ("Onboarding overdue", dashboard.onboarding_overdue),
        ("Conversations held", dashboard.conversations_held),
        ("Conversations missed", dashboard.conversations_missed),
        ("Cadence adherence", share(dashboard.cadence_adherence)),
        ("Action-plan completion", share(dashboard.action_plan_completion)),
        ("Escalations", dashboard.escalations),
        ("Rematches", dashboard.rematches),
    ]


@router.get("/hr/cohorts/{cohort_id}/dashboard")
async def dashboard_page(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer
) -> Response:
    """Key figures and charts of a cohort, each chart with its table."""
    try:
        dashboard, charts = await _dashboard_and_charts(services, cohort_id, viewer.time_zone)
    except _NoCohort:
        return _not_found(request, cohort_id, viewer)
    return render(
        request,
        "dashboard.html",
        {
            "viewer": viewer,
            "cohort_id": cohort_id,
            "dashboard": dashboard,
            "figures": key_figures(dashboard),
            "charts": charts,
        },
    )


@router.get("/hr/cohorts/{cohort_id}/at-risk")
async def at_risk_page(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer
) -> Response:
    """Running pairs that are behind: misses in a row, overdue items or onboarding, low
    ratings; each links to its relationship."""
    try:
        dashboard = await _dashboard(services, cohort_id)
    except _NoCohort:
        return _not_found(request, cohort_id, viewer)
    pairs = await read_pairs_at_risk(services.pool, cohort_id, limit=AT_RISK_LIMIT)
    return render(
        request,
        "at_risk.html",
        {
            "viewer": viewer,
            "cohort_id": cohort_id,
            "dashboard": dashboard,
            "pairs": pairs,
            "limit": AT_RISK_LIMIT,
        },
    )


@router.get("/hr/cohorts/{cohort_id}/dashboard.csv")
async def dashboard_csv(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer
) -> Response:
    """Every figure of the dashboard: its key figures, then each chart's table."""
    try:
        dashboard, charts = await _dashboard_and_charts(services, cohort_id, viewer.time_zone)
    except _NoCohort:
        return _not_found(request, cohort_id, viewer)
    rows: list[tuple[object, ...]] = [
        ("Key figures", label, "", value) for label, value in key_figures(dashboard)
    ]
    for chart in charts:
        rows.extend((chart.title, *row) for row in chart.csv_rows())
    text = csv_text(("chart", "item", "series", "value"), rows, ZoneInfo(viewer.time_zone))
    return csv_download(f"{cohort_id}-dashboard.csv", text)


@router.get("/hr/cohorts/{cohort_id}/relationships.csv")
async def relationships_csv(
    request: Request, cohort_id: str, services: Services, viewer: HrViewer
) -> Response:
    """Every relationship of the cohort with its figures (ids and numbers, no private text)."""
    try:
        await _dashboard(services, cohort_id)
    except _NoCohort:
        return _not_found(request, cohort_id, viewer)
    rows = await read_relationship_rows(services.pool, cohort_id)
    text = csv_text(RELATIONSHIP_COLUMNS, rows, ZoneInfo(viewer.time_zone))
    return csv_download(f"{cohort_id}-relationships.csv", text)
