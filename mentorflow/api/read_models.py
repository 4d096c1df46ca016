"""Queries the API runs on the read models (schema ``read_models``), as API models.

`projections.queries` reads the aggregated dashboard and mentor load; the per-relationship
tables (overview, development plan) and the cohort list are read here. Connection failures
become `ServiceUnavailable` at this one choke point.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import ParamSpec, TypeVar

from pydantic import BaseModel

from eventstore import DatabaseUnavailable, Pool
from eventstore.errors import is_missing_relation, translate
from eventstore.pool import Record
from mentorflow.api.access import Relationship
from mentorflow.api.errors import ServiceUnavailable
from mentorflow.api.models.cohorts import CohortDashboard, CohortPage, CohortSummary
from mentorflow.api.models.mentorship_views import MentorshipOverview
from mentorflow.api.models.people import (
    PlanActionItem,
    PlanChallenge,
    PlanFeedback,
    PlanGoal,
    PlanPart,
)
from mentorflow.api.models.review_cycles import CohortRelationship, ReviewOutcome
from projections import SCHEMA, MentorLoadView, read_cohort_dashboard, read_mentor_load
from projections.development_plan import RATINGS

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

RUNNING_STAGES = ("matched", "onboarding", "active", "paused")


def _unavailable(error: Exception) -> bool:
    """The database is away (the event store's translation says so), or the read models are
    not migrated yet (a projector has never started): answer 503, not 500."""
    return isinstance(translate(error), DatabaseUnavailable) or is_missing_relation(error)


def _translated(query: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(query)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await query(*args, **kwargs)
        except Exception as error:
            if not _unavailable(error):
                raise
            raise ServiceUnavailable(
                f"the read models are not available: {type(error).__name__}"
            ) from error

    return run


def _model(model: type[M], row: Record) -> M:
    return model.model_validate(dict(row))


@_translated
async def find_relationship(pool: Pool, mentorship_id: str) -> Relationship | None:
    """Who is in a relationship, once projected."""
    row = await pool.fetchrow(
        f"SELECT cohort_id, mentor_id, mentee_id FROM {SCHEMA}.mentorship_overview "
        "WHERE stream_id = $1",
        mentorship_id,
    )
    if row is None:
        return None
    return Relationship(mentorship_id, row["cohort_id"], row["mentor_id"], row["mentee_id"])


@_translated
async def relationships_of(
    pool: Pool, person_id: str, *, after: str | None, limit: int
) -> list[tuple[Relationship, MentorshipOverview]]:
    """The relationships a person mentors or is mentored in, in id order, a page at a time."""
    rows = await pool.fetch(
        f"SELECT * FROM {SCHEMA}.mentorship_overview "
        "WHERE (mentor_id = $1 OR mentee_id = $1) AND ($2::text IS NULL OR stream_id > $2) "
        "ORDER BY stream_id LIMIT $3",
        person_id,
        after,
        limit,
    )
    return [
        (
            Relationship(row["stream_id"], row["cohort_id"], row["mentor_id"], row["mentee_id"]),
            _model(MentorshipOverview, row),
        )
        for row in rows
    ]


@_translated
async def mentorship_overview(
    pool: Pool, mentorship_id: str
) -> tuple[Relationship, MentorshipOverview] | None:
    """A relationship's overview row."""
    row = await pool.fetchrow(
        f"SELECT * FROM {SCHEMA}.mentorship_overview WHERE stream_id = $1", mentorship_id
    )
    if row is None:
        return None
    relationship = Relationship(mentorship_id, row["cohort_id"], row["mentor_id"], row["mentee_id"])
    return relationship, _model(MentorshipOverview, row)


_COHORT_COLUMNS = (
    "cohort_id, program_name, starts_at, ends_at, participant_count, unmatched_mentees, "
    "launched_at, closed_at"
)


@_translated
async def cohort_page(pool: Pool, *, after: str | None, limit: int) -> CohortPage:
    """Cohorts after ``after`` in id order (keyset paging: stable under inserts)."""
    rows = await pool.fetch(
        f"SELECT {_COHORT_COLUMNS} FROM {SCHEMA}.dashboard_cohorts "
        "WHERE ($1::text IS NULL OR cohort_id > $1) ORDER BY cohort_id LIMIT $2",
        after,
        limit + 1,
    )
    items = [_model(CohortSummary, row) for row in rows[:limit]]
    return CohortPage(items=items, next_after=items[-1].cohort_id if len(rows) > limit else None)


@_translated
async def cohort_summary(pool: Pool, cohort_id: str) -> CohortSummary | None:
    """A cohort's summary, once its launch is projected."""
    row = await pool.fetchrow(
        f"SELECT {_COHORT_COLUMNS} FROM {SCHEMA}.dashboard_cohorts WHERE cohort_id = $1",
        cohort_id,
    )
    return None if row is None else _model(CohortSummary, row)


@_translated
async def cohort_dashboard(pool: Pool, cohort_id: str) -> CohortDashboard | None:
    """The cohort's dashboard with every mentor's load."""
    dashboard = await read_cohort_dashboard(pool, cohort_id)
    if dashboard is None:
        return None
    load = await read_mentor_load(pool, cohort_id=cohort_id)
    return CohortDashboard(**dashboard.model_dump(), mentor_load=load)


@_translated
async def summaries_awaiting(pool: Pool, mentee_id: str) -> dict[str, list[tuple[str, datetime]]]:
    """The review summaries waiting for the mentee's decision: cycle ids and dates, by
    relationship (ids and dates only: the texts stay in their row, sealed)."""
    rows = await pool.fetch(
        f"SELECT stream_id, cycle_id, respond_by FROM {SCHEMA}.review_summaries "
        "WHERE mentee_id = $1 AND status = 'awaiting_mentee' ORDER BY respond_by, cycle_id",
        mentee_id,
    )
    awaiting: dict[str, list[tuple[str, datetime]]] = {}
    for row in rows:
        awaiting.setdefault(row["stream_id"], []).append((row["cycle_id"], row["respond_by"]))
    return awaiting


@_translated
async def mentor_load(pool: Pool, mentor_id: str) -> list[MentorLoadView]:
    """A mentor's load against capacity, per cohort they mentor in."""
    return await read_mentor_load(pool, mentor_id=mentor_id)


@_translated
async def running_mentorships(pool: Pool, cohort_id: str) -> list[str]:
    """Ids of the cohort's relationships that have not begun closing."""
    rows = await pool.fetch(
        f"SELECT stream_id FROM {SCHEMA}.mentorship_overview "
        "WHERE cohort_id = $1 AND stage = ANY($2::text[]) ORDER BY stream_id",
        cohort_id,
        list(RUNNING_STAGES),
    )
    return [row["stream_id"] for row in rows]


@_translated
async def cohort_relationships(pool: Pool, cohort_id: str) -> list[CohortRelationship]:
    """Every relationship of the cohort (rematches included), in id order."""
    rows = await pool.fetch(
        f"SELECT stream_id AS mentorship_id, mentor_id, mentee_id, stage "
        f"FROM {SCHEMA}.mentorship_overview WHERE cohort_id = $1 ORDER BY stream_id",
        cohort_id,
    )
    return [_model(CohortRelationship, row) for row in rows]


@_translated
async def review_outcomes(pool: Pool, cohort_id: str) -> list[ReviewOutcome]:
    """The cohort's review summaries, newest cycle first: status and dates, never the text."""
    rows = await pool.fetch(
        "SELECT stream_id AS mentorship_id, cycle_id, mentor_id, mentee_id, status, "
        "drafted_at, respond_by, decided_at, edited_by_mentee "
        f"FROM {SCHEMA}.review_summaries WHERE cohort_id = $1 "
        "ORDER BY drafted_at DESC, cycle_id, stream_id",
        cohort_id,
    )
    return [_model(ReviewOutcome, row) for row in rows]


_PLANS = f"""
SELECT plan.*, overview.matched_at FROM {SCHEMA}.development_plans AS plan
LEFT JOIN {SCHEMA}.mentorship_overview AS overview USING (stream_id)
WHERE plan.mentee_id = $1
ORDER BY overview.matched_at NULLS LAST, plan.stream_id
"""


async def _by_stream(
    pool: Pool, table: str, order: str, streams: Sequence[str], model: type[M]
) -> dict[str, list[M]]:
    rows = await pool.fetch(
        f"SELECT * FROM {SCHEMA}.{table} WHERE stream_id = ANY($1::text[]) ORDER BY {order}",
        list(streams),
    )
    grouped: dict[str, list[M]] = {stream: [] for stream in streams}
    for row in rows:
        grouped[row["stream_id"]].append(_model(model, row))
    return grouped


@_translated
async def development_plan(pool: Pool, person_id: str) -> list[PlanPart]:
    """The person's plan as a mentee, one part per relationship, oldest first."""
    plans = await pool.fetch(_PLANS, person_id)
    streams = [plan["stream_id"] for plan in plans]
    goals = await _by_stream(pool, "development_goals", "set_at, goal_id", streams, PlanGoal)
    challenges = await _by_stream(
        pool, "development_challenges", "set_at, challenge_id", streams, PlanChallenge
    )
    items = await _by_stream(
        pool,
        "development_action_items",
        "conversation_number, due_at, item_id",
        streams,
        PlanActionItem,
    )
    feedback = await _by_stream(
        pool,
        "development_feedback",
        "conversation_number, direction",
        streams,
        PlanFeedback,
    )
    given = await pool.fetch(
        f"SELECT * FROM {SCHEMA}.development_feedback_given WHERE stream_id = ANY($1::text[]) "
        "ORDER BY conversation_number, direction",
        streams,
    )
    for row in given:
        feedback[row["stream_id"]].append(
            PlanFeedback(
                conversation_number=row["conversation_number"],
                direction=row["direction"],
                feedback=row["comment"],
                given_at=row["given_at"],
                author_id=row["author_id"],
                ratings={name: row[name] for name in RATINGS if row[name] is not None},
            )
        )
    parts: list[PlanPart] = []
    for plan in plans:
        stream = plan["stream_id"]
        parts.append(
            PlanPart(
                mentorship_id=stream,
                cohort_id=plan["cohort_id"],
                mentor_id=plan["mentor_id"],
                stage=plan["stage"],
                skills_worked_on=list(plan["skills_worked_on"]),
                conversations_held=plan["conversations_held"],
                goals=goals[stream],
                challenges=challenges[stream],
                action_items=items[stream],
                feedback=feedback[stream],
                updated_at=plan["updated_at"],
            )
        )
    return parts
