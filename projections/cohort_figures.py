"""Reading a cohort's figures for HR's dashboard charts, and the pairs at risk.

Everything here reads the cohort dashboard's per-relationship rows (``dashboard_*``), the
mentorship overview and the development plans' feedback ratings, summed when read (see the
migrations). Weeks start on Monday in the viewer's time zone: a date of ``2027-01-11`` is the
week from that Monday on.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from eventstore.pool import Pool
from projections.development_plan import RATINGS
from projections.queries import Reader
from projections.schema import SCHEMA

RUNNING = ("matched", "onboarding", "active", "paused")
LOW_RATING = 2.5
"""A relationship whose feedback ratings average below this is at risk."""
MAX_WEEKS = 104
"""Stage-over-time weeks shown at most (the latest ones)."""


class WeekCount(BaseModel):
    """How many of a kind in a week."""

    week: date = Field(description="The week's Monday, in the viewer's time zone")
    kind: str
    count: int


class FunnelStep(BaseModel):
    """Pairs that have got at least this far in onboarding."""

    step: str
    pairs: int


class ValueCount(BaseModel):
    """How often a value was given."""

    name: str
    value: int
    count: int


class AtRiskPair(BaseModel):
    """A running relationship that is behind, and why."""

    mentorship_id: str
    mentor_id: str
    mentee_id: str
    stage: str
    consecutive_misses: int
    action_items_overdue: int
    onboarding_overdue: bool
    average_rating: float | None
    next_conversation_due: datetime | None

    @property
    def reasons(self) -> list[str]:
        """Why the pair is at risk, in plain words."""
        reasons: list[str] = []
        if self.consecutive_misses:
            reasons.append(f"{self.consecutive_misses} missed conversation(s) in a row")
        if self.action_items_overdue:
            reasons.append(f"{self.action_items_overdue} overdue action item(s)")
        if self.onboarding_overdue:
            reasons.append("onboarding overdue")
        if self.average_rating is not None and self.average_rating < LOW_RATING:
            reasons.append(f"low feedback ratings (average {self.average_rating:.1f} of 5)")
        return reasons


class CohortFigures(BaseModel):
    """The figures over time and the distributions of a cohort's dashboard charts."""

    stages_by_week: list[WeekCount] = Field(description="Pairs in each stage at each week's end")
    conversations_by_week: list[WeekCount] = Field(
        description="Conversations due in a week: on_time, late or missed"
    )
    onboarding_funnel: list[FunnelStep]
    action_items_created: int
    action_items_completed: int
    action_items_overdue: int
    ratings: list[ValueCount] = Field(description="Feedback ratings given, per rating and value")
    satisfaction: list[ValueCount] = Field(description="Closing-survey satisfaction, 1..5")
    escalations: list[ValueCount] = Field(description="Pairs by how often they were escalated")


_STAGE_DELTAS = f"""
WITH changes AS (
    SELECT date_trunc('week', changed_at AT TIME ZONE $2)::date AS week, stage,
           lag(stage) OVER (PARTITION BY stream_id ORDER BY change_number) AS previous
    FROM {SCHEMA}.dashboard_stage_changes WHERE cohort_id = $1
)
SELECT week, stage, count(*) AS delta FROM changes GROUP BY 1, 2
UNION ALL
SELECT week, previous, -count(*) FROM changes WHERE previous IS NOT NULL GROUP BY 1, 2
"""


async def _stages_by_week(pool: Pool, cohort_id: str, time_zone: str) -> list[WeekCount]:
    """Pairs per stage at each week's end: the database sums, per week and stage, the pairs
    that entered it (+1) and left it (-1); the running total of those is each week's count."""
    deltas = await pool.fetch(_STAGE_DELTAS, cohort_id, time_zone)
    if not deltas:
        return []
    by_week: dict[date, Counter[str]] = {}
    for row in deltas:
        by_week.setdefault(row["week"], Counter())[row["stage"]] += int(row["delta"])
    first, last = min(by_week), max(by_week)
    start = max(first, last - timedelta(weeks=MAX_WEEKS - 1))
    counts: Counter[str] = Counter()
    figures: list[WeekCount] = []
    week = first
    while week <= last:
        counts.update(by_week.get(week, Counter()))
        if week >= start:
            figures.extend(
                WeekCount(week=week, kind=stage, count=count)
                for stage, count in sorted(counts.items())
                if count
            )
        week += timedelta(weeks=1)
    return figures


async def read_cohort_figures(pool: Pool, cohort_id: str, time_zone: str) -> CohortFigures:
    """The cohort's dashboard charts' figures, weeks in ``time_zone``.

    The queries are independent and run at once, each on a connection of the pool's.
    """
    conversations_query = pool.fetch(
        "SELECT date_trunc('week', due_at AT TIME ZONE $2)::date AS week, outcome, "
        f"count(*) AS count FROM {SCHEMA}.dashboard_conversations WHERE cohort_id = $1 "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        cohort_id,
        time_zone,
    )
    funnel_query = pool.fetchrow(
        "SELECT count(*) AS matched, count(*) FILTER (WHERE training_completed) AS trained, "
        "count(*) FILTER (WHERE training_completed AND goals_set) AS goals, "
        "count(*) FILTER (WHERE training_completed AND goals_set AND kickoff_held) AS kickoff, "
        "count(*) FILTER (WHERE onboarding_completed) AS onboarded, "
        "coalesce(sum(action_items_created), 0) AS items, "
        "coalesce(sum(action_items_completed), 0) AS items_completed, "
        "coalesce(sum(action_items_overdue), 0) AS items_overdue "
        f"FROM {SCHEMA}.dashboard_pairs WHERE cohort_id = $1",
        cohort_id,
    )
    rating_columns = ", ".join(f"({name}, '{name}')" for name in RATINGS)
    ratings_query = pool.fetch(
        "SELECT rating.name, rating.value, count(*) AS count "
        f"FROM {SCHEMA}.development_feedback_given AS given "
        f"JOIN {SCHEMA}.dashboard_pairs AS pair USING (stream_id) "
        f"CROSS JOIN LATERAL (VALUES {rating_columns}) AS rating(value, name) "
        "WHERE pair.cohort_id = $1 AND rating.value IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        cohort_id,
    )
    surveys_query = pool.fetch(
        f"SELECT satisfaction, count(*) AS count FROM {SCHEMA}.dashboard_surveys "
        "WHERE cohort_id = $1 GROUP BY 1 ORDER BY 1",
        cohort_id,
    )
    escalations_query = pool.fetch(
        f"SELECT escalations, count(*) AS count FROM {SCHEMA}.dashboard_pairs "
        "WHERE cohort_id = $1 GROUP BY 1 ORDER BY 1",
        cohort_id,
    )
    stages, conversations, funnel, ratings, surveys, escalations = await asyncio.gather(
        _stages_by_week(pool, cohort_id, time_zone),
        conversations_query,
        funnel_query,
        ratings_query,
        surveys_query,
        escalations_query,
    )
    steps = (
        ("matched", "Matched"),
        ("trained", "Training completed"),
        ("goals", "Goals set"),
        ("kickoff", "Kickoff held"),
        ("onboarded", "Onboarding completed"),
    )
    return CohortFigures(
        stages_by_week=stages,
        conversations_by_week=[
            WeekCount(week=row["week"], kind=row["outcome"], count=row["count"])
            for row in conversations
        ],
        onboarding_funnel=[
            FunnelStep(step=label, pairs=int(funnel[column]) if funnel else 0)
            for column, label in steps
        ],
        action_items_created=int(funnel["items"]) if funnel else 0,
        action_items_completed=int(funnel["items_completed"]) if funnel else 0,
        action_items_overdue=int(funnel["items_overdue"]) if funnel else 0,
        ratings=[
            ValueCount(name=row["name"], value=row["value"], count=row["count"]) for row in ratings
        ],
        satisfaction=[
            ValueCount(name="satisfaction", value=row["satisfaction"], count=row["count"])
            for row in surveys
        ],
        escalations=[
            ValueCount(name="escalations", value=row["escalations"], count=row["count"])
            for row in escalations
        ],
    )


_AVERAGE_RATING = " + ".join(f"coalesce({name}, 0)" for name in RATINGS)
_RATINGS_GIVEN = " + ".join(f"({name} IS NOT NULL)::int" for name in RATINGS)

_AT_RISK = f"""
WITH rated AS (
    SELECT stream_id, sum({_AVERAGE_RATING})::float / nullif(sum({_RATINGS_GIVEN}), 0) AS average
    FROM {SCHEMA}.development_feedback_given
    WHERE stream_id IN (SELECT stream_id FROM {SCHEMA}.dashboard_pairs WHERE cohort_id = $1)
    GROUP BY stream_id
)
SELECT pair.stream_id, overview.mentor_id, overview.mentee_id, pair.stage,
       pair.consecutive_misses, pair.action_items_overdue, pair.onboarding_overdue,
       rated.average, overview.next_conversation_due
FROM {SCHEMA}.dashboard_pairs AS pair
JOIN {SCHEMA}.mentorship_overview AS overview USING (stream_id)
LEFT JOIN rated USING (stream_id)
WHERE pair.cohort_id = $1 AND pair.stage = ANY($2::text[])
  AND (pair.consecutive_misses > 0 OR pair.action_items_overdue > 0 OR pair.onboarding_overdue
       OR rated.average < $3)
ORDER BY pair.consecutive_misses DESC, pair.action_items_overdue DESC, pair.stream_id
LIMIT $4
"""


async def read_pairs_at_risk(reader: Reader, cohort_id: str, *, limit: int) -> list[AtRiskPair]:
    """Running relationships that are behind, the most behind first."""
    rows = await reader.fetch(_AT_RISK, cohort_id, list(RUNNING), LOW_RATING, limit)
    return [
        AtRiskPair(
            mentorship_id=row["stream_id"],
            mentor_id=row["mentor_id"],
            mentee_id=row["mentee_id"],
            stage=row["stage"],
            consecutive_misses=row["consecutive_misses"],
            action_items_overdue=row["action_items_overdue"],
            onboarding_overdue=row["onboarding_overdue"],
            average_rating=row["average"],
            next_conversation_due=row["next_conversation_due"],
        )
        for row in rows
    ]


_RELATIONSHIPS = f"""
SELECT overview.stream_id, overview.mentor_id, overview.mentee_id, overview.stage,
       overview.match_score, overview.matched_at, overview.conversations_held,
       overview.conversations_missed, overview.consecutive_misses,
       overview.next_conversation_due, overview.action_items_open,
       overview.action_items_overdue, overview.action_items_completed, overview.escalations,
       pair.onboarding_completed, pair.onboarding_overdue, overview.closure_reason
FROM {SCHEMA}.mentorship_overview AS overview
LEFT JOIN {SCHEMA}.dashboard_pairs AS pair USING (stream_id)
WHERE overview.cohort_id = $1 ORDER BY overview.stream_id
"""

RELATIONSHIP_COLUMNS = (
    "mentorship_id",
    "mentor_id",
    "mentee_id",
    "stage",
    "match_score",
    "matched_at",
    "conversations_held",
    "conversations_missed",
    "consecutive_misses",
    "next_conversation_due",
    "action_items_open",
    "action_items_overdue",
    "action_items_completed",
    "escalations",
    "onboarding_completed",
    "onboarding_overdue",
    "closure_reason",
)


async def read_relationship_rows(reader: Reader, cohort_id: str) -> list[tuple[object, ...]]:
    """Every relationship of the cohort, ids and figures only (no personal text), in
    `RELATIONSHIP_COLUMNS` order."""
    return [tuple(row.values()) for row in await reader.fetch(_RELATIONSHIPS, cohort_id)]
