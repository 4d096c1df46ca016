"""The dashboard's charts: Vega-Lite specifications built here as plain JSON, with their data
inline, and the same figures as a table (every chart has a table alternative).

The page embeds each specification in a JSON data block; ``static/charts.js`` renders it with
vega-embed, expressions interpreted rather than compiled (the CSP has no 'unsafe-eval').
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mentorflow.api.models.cohorts import CohortDashboard
from projections.cohort_figures import CohortFigures

SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.json"
STAGES = ["matched", "onboarding", "active", "paused", "closing", "closed"]
OUTCOMES = ["on_time", "late", "missed"]
LOAD_LEVELS = ["under capacity", "at capacity", "over capacity", "capacity unknown"]

Spec = dict[str, Any]


@dataclass(frozen=True)
class Chart:
    """A chart, its specification and its table alternative."""

    name: str
    title: str
    description: str
    spec: Spec
    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]
    summary: str = ""
    empty: str = "No figures yet."
    notes: list[str] = field(default_factory=list)

    def csv_rows(self) -> list[tuple[object, object, object]]:
        """The table as (item, series, value) rows: a two-column table has no series, and
        each further column of a wider one is a series of its own."""
        if len(self.columns) == 2:
            return [(row[0], "", row[1]) for row in self.rows]
        if len(self.columns) == 3:
            return [(row[0], row[1], row[2]) for row in self.rows]
        return [
            (row[0], column, value)
            for row in self.rows
            for column, value in zip(self.columns[1:], row[1:], strict=True)
        ]

    @property
    def has_data(self) -> bool:
        """Whether there is anything to draw."""
        return any(isinstance(value, int) and value for row in self.rows for value in row[1:])


def _spec(description: str, values: Sequence[dict[str, Any]], **parts: Any) -> Spec:
    return {
        "$schema": SCHEMA_URL,
        "description": description,
        "width": "container",
        "height": 220,
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": list(values)},
        "config": {"font": "system-ui, sans-serif", "axis": {"labelFontSize": 12}},
        **parts,
    }


COUNT_AXIS = {"tickMinStep": 1, "format": "d"}


def _count(field_name: str, title: str) -> dict[str, Any]:
    return {"field": field_name, "type": "quantitative", "title": title, "axis": COUNT_AXIS}


def _week_axis() -> dict[str, Any]:
    return {
        "field": "week",
        "type": "ordinal",
        "title": "Week starting",
        "axis": {"labelAngle": -45, "labelOverlap": True},
    }


def stages_over_time(figures: CohortFigures) -> Chart:
    """Pairs in each stage at the end of each week."""
    values = [
        {"week": item.week.isoformat(), "stage": item.kind, "pairs": item.count}
        for item in figures.stages_by_week
    ]
    description = "Stacked bars: pairs in each stage at the end of each week"
    return Chart(
        "stages",
        "Pairs by stage over time",
        description,
        _spec(
            description,
            values,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": _week_axis(),
                "y": _count("pairs", "Pairs"),
                "color": {
                    "field": "stage",
                    "type": "nominal",
                    "scale": {"domain": STAGES},
                    "title": "Stage",
                },
                "order": {"field": "stage"},
            },
        ),
        ("Week starting", "Stage", "Pairs"),
        [(item.week.isoformat(), item.kind, item.count) for item in figures.stages_by_week],
        empty="No relationship has started yet.",
    )


def cadence_by_week(figures: CohortFigures) -> Chart:
    """Conversations due each week: held on time, held late, missed."""
    values = [
        {"week": item.week.isoformat(), "outcome": item.kind, "conversations": item.count}
        for item in figures.conversations_by_week
    ]
    description = "Stacked bars: conversations due each week, held on time, late or missed"
    due = sum(item.count for item in figures.conversations_by_week)
    on_time = sum(item.count for item in figures.conversations_by_week if item.kind == "on_time")
    return Chart(
        "cadence",
        "Conversation cadence adherence by week",
        description,
        _spec(
            description,
            values,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": _week_axis(),
                "y": _count("conversations", "Conversations"),
                "color": {
                    "field": "outcome",
                    "type": "nominal",
                    "scale": {"domain": OUTCOMES, "range": ["#1b7a3e", "#c77c02", "#b3261e"]},
                    "title": "Held",
                },
            },
        ),
        ("Week starting", "Outcome", "Conversations"),
        [(item.week.isoformat(), item.kind, item.count) for item in figures.conversations_by_week],
        summary=(
            "No conversation has been due yet."
            if not due
            else f"{on_time / due:.0%} of the {due} conversations due were held on time "
            "(missed ones included)."
        ),
        empty="No conversation has been due yet.",
    )


def _bars(
    name: str,
    title: str,
    description: str,
    label: str,
    measure: str,
    pairs: Sequence[tuple[str, int]],
    **extra: Any,
) -> Chart:
    values = [{"label": key, "value": value} for key, value in pairs]
    return Chart(
        name,
        title,
        description,
        _spec(
            description,
            values,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "y": {"field": "label", "type": "nominal", "sort": None, "title": label},
                "x": {
                    "field": "value",
                    "type": "quantitative",
                    "title": measure,
                    "axis": COUNT_AXIS,
                },
            },
            height=max(90, 30 * len(values)),
        ),
        (label, measure),
        [(key, value) for key, value in pairs],
        **extra,
    )


def action_plan_completion(figures: CohortFigures) -> Chart:
    """Action items agreed: completed, open, overdue."""
    created, completed = figures.action_items_created, figures.action_items_completed
    overdue = figures.action_items_overdue
    return _bars(
        "action_plans",
        "Action-plan completion",
        "Bars: action items completed, open and overdue",
        "Action items",
        "Items",
        [
            ("Completed", completed),
            ("Open, not overdue", max(0, created - completed - overdue)),
            ("Overdue", overdue),
        ],
        summary=(
            "No action item has been agreed yet."
            if not created
            else f"{completed / created:.0%} of the {created} action items agreed are completed."
        ),
        empty="No action item has been agreed yet.",
    )


def onboarding_funnel(figures: CohortFigures) -> Chart:
    """Pairs that got through each step of onboarding."""
    return _bars(
        "onboarding",
        "Onboarding funnel",
        "Bars: pairs matched, trained, with goals, with a kickoff, onboarded",
        "Step",
        "Pairs",
        [(step.step, step.pairs) for step in figures.onboarding_funnel],
        empty="No relationship has started yet.",
    )


def escalations(figures: CohortFigures, dashboard: CohortDashboard) -> Chart:
    """Pairs by how often they were escalated."""
    return _bars(
        "escalations",
        "Escalations",
        "Bars: pairs by the number of times they were escalated",
        "Times escalated",
        "Pairs",
        [(str(item.value), item.count) for item in figures.escalations],
        summary=f"{dashboard.escalations} escalation(s) in all.",
        empty="No relationship has started yet.",
    )


def feedback_ratings(figures: CohortFigures) -> Chart:
    """How often each rating value was given, per rating."""
    values = [
        {"rating": item.name.replace("_", " "), "value": item.value, "count": item.count}
        for item in figures.ratings
    ]
    description = "Grouped bars: feedback ratings given, 1 to 5, per rating"
    return Chart(
        "ratings",
        "Feedback ratings",
        description,
        _spec(
            description,
            values,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": {
                    "field": "value",
                    "type": "ordinal",
                    "scale": {"domain": [1, 2, 3, 4, 5]},
                    "title": "Rating (1 poor, 5 excellent)",
                    "axis": {"labelAngle": 0},
                },
                "xOffset": {"field": "rating", "type": "nominal"},
                "y": _count("count", "Times given"),
                "color": {"field": "rating", "type": "nominal", "title": "Rating"},
            },
        ),
        ("Rating", "Value", "Times given"),
        [(item.name, item.value, item.count) for item in figures.ratings],
        empty="No feedback with ratings has been given yet.",
    )


def satisfaction(figures: CohortFigures, dashboard: CohortDashboard) -> Chart:
    """Closing-survey satisfaction, 1..5."""
    counts = {item.value: item.count for item in figures.satisfaction}
    return _bars(
        "satisfaction",
        "Satisfaction (closing surveys)",
        "Bars: closing-survey answers by satisfaction, 1 to 5",
        "Satisfaction",
        "Answers",
        [(str(value), counts.get(value, 0)) for value in range(1, 6)],
        summary=(
            "No closing survey has been answered yet."
            if dashboard.average_satisfaction is None
            else f"Average {dashboard.average_satisfaction:.1f} of 5 from "
            f"{dashboard.surveys_received} answer(s)."
        ),
        empty="No closing survey has been answered yet.",
    )


def _load_level(active: int, capacity: int | None) -> str:
    if capacity is None:
        return LOAD_LEVELS[3]
    if active < capacity:
        return LOAD_LEVELS[0]
    return LOAD_LEVELS[1] if active == capacity else LOAD_LEVELS[2]


def mentor_load(dashboard: CohortDashboard) -> Chart:
    """Mentors by active mentees, coloured by how that compares with their capacity."""
    counts: dict[tuple[int, str], int] = {}
    for load in dashboard.mentor_load:
        key = (load.active_mentees, _load_level(load.active_mentees, load.capacity))
        counts[key] = counts.get(key, 0) + 1
    values = [
        {"active": active, "level": level, "mentors": mentors}
        for (active, level), mentors in sorted(counts.items())
    ]
    description = "Stacked bars: mentors by active mentees, against their capacity"
    return Chart(
        "mentor_load",
        "Mentor load against capacity",
        description,
        _spec(
            description,
            values,
            mark={"type": "bar", "tooltip": True},
            encoding={
                "x": {
                    "field": "active",
                    "type": "ordinal",
                    "title": "Active mentees",
                    "axis": {"labelAngle": 0},
                },
                "y": _count("mentors", "Mentors"),
                "color": {
                    "field": "level",
                    "type": "nominal",
                    "scale": {
                        "domain": LOAD_LEVELS,
                        "range": ["#4c78a8", "#1b7a3e", "#b3261e", "#8a8a8a"],
                    },
                    "title": "Against capacity",
                },
            },
        ),
        ("Mentor", "Active mentees", "Capacity", "Against capacity"),
        [
            (
                load.mentor_id,
                load.active_mentees,
                "unknown" if load.capacity is None else load.capacity,
                _load_level(load.active_mentees, load.capacity),
            )
            for load in dashboard.mentor_load
        ],
        summary=f"{len(dashboard.mentor_load)} mentor(s).",
        empty="No mentor has a mentee yet.",
    )


def dashboard_charts(dashboard: CohortDashboard, figures: CohortFigures) -> list[Chart]:
    """Every chart of a cohort's dashboard, in page order."""
    return [
        stages_over_time(figures),
        cadence_by_week(figures),
        action_plan_completion(figures),
        feedback_ratings(figures),
        satisfaction(figures, dashboard),
        escalations(figures, dashboard),
        mentor_load(dashboard),
        onboarding_funnel(figures),
    ]
